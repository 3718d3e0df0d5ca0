"""``python -m redact``."""

from redact.cli import main

if __name__ == "__main__":
    main()
