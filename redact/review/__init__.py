"""Review: what a reviewer checks, changes and signs off after a run.

:mod:`~redact.review.verify` checks outputs against the manifest (hashes, schema, a second
detection pass for leaks); :mod:`~redact.review.report` writes the static report and
:mod:`~redact.review.page` the interactive review page (inline script, style and JPEG
pictures; no network), in which a reviewer drops false detections, draws missed regions,
approves files and exports ``overrides.json`` (``redact-overrides/1``,
:mod:`~redact.review.overrides`) plus a sign-off record (``redact-signoff/1``,
:mod:`~redact.review.signoff`); :mod:`~redact.review.rerender` renders the edited regions
again from the originals.
"""
