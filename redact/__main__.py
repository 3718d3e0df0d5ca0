"""``python -m redact``."""

from redact.cli import main

main()
