"""Thin shim so `python cli.py ...` works from a checkout; the real CLI is redact.cli."""

from redact.cli import main

if __name__ == "__main__":
    main()
