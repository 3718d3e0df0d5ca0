"""Shared fixtures (helpers, paths and fakes live in :mod:`tests.helpers`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.helpers import MarkerDetectors


@pytest.fixture
def marker_detectors() -> MarkerDetectors:
    return MarkerDetectors()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A real Ray cluster on this machine (2 CPUs) shared by the whole session; yields its address."""
    try:
        import ray
    except ImportError:
        pytest.skip("ray is not installed; `make install` installs it (pip install -e '.[dev,ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


@pytest.fixture(autouse=True)
def _fail_on_unexpected_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test that logs at ERROR without saying so fails."""
    caplog.set_level(logging.WARNING, logger="redact")
    yield
    if getattr(caplog, "_expect_errors", False):
        return
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("redact")]
    assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"
