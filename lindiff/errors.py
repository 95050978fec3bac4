"""Exceptions raised by lindiff for bad input.

Every error names the offending parameter, key or file so that a user can fix it
without reading a traceback.  The classes derive from :class:`ValueError`, so
callers that only care about "bad input" can catch that.
"""

from __future__ import annotations


class LindiffError(ValueError):
    """Base class for all input errors raised by lindiff."""


class ConfigError(LindiffError):
    """A parameter has a wrong type or a value outside its allowed range."""


class DataError(LindiffError):
    """A data set or file is missing, corrupt, or holds values lindiff cannot use."""


class CorruptArtifactError(DataError):
    """An artifact the workflow wrote earlier cannot be trusted (unreadable, checksum mismatch,
    missing or malformed arrays): it should be rebuilt by the job that produces it."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
