"""Reading and writing media. Images live in :mod:`redact.io.image`."""
