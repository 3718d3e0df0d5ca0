"""Shared fixtures (helpers, paths and fakes live in :mod:`tests.helpers`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.helpers import MarkerDetectors


@pytest.fixture
def marker_detectors() -> MarkerDetectors:
    return MarkerDetectors()


@pytest.fixture(autouse=True)
def _fail_on_unexpected_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test that logs at ERROR without saying so fails."""
    caplog.set_level(logging.WARNING, logger="redact")
    yield
    if getattr(caplog, "_expect_errors", False):
        return
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("redact")]
    assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"
