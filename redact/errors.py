"""Typed errors. Messages say what happened and what to do."""

from __future__ import annotations


class RedactError(Exception):
    """Base class for every error the library raises on purpose."""


class ConfigError(RedactError):
    """An option or configuration value is invalid (CLI exit code 2)."""


class MediaError(RedactError):
    """An input cannot be read, decoded or written."""


class ModelError(RedactError):
    """A model file is missing, corrupt or cannot be run."""


class ManifestError(RedactError):
    """A manifest is missing, malformed or does not match its schema."""
