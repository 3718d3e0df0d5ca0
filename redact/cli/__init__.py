"""The ``redact`` command line: ``run`` and the review commands (``verify``, ``review``,
``render``). The library never prints or exits; these modules own click, progress bars and
exit codes."""

from redact.cli.main import main

__all__ = ["main"]
