"""Errors of the index stage, in Beacon's one exception family."""

from ingest.errors import BeaconError


class ModelError(BeaconError):
    """The embedding model cannot be found, verified or loaded."""


class IndexMissingError(BeaconError):
    """No published index where one was expected."""


class IndexCorruptError(BeaconError):
    """A published index whose files are missing, damaged or built for another model."""


class BuildInProgressError(BeaconError):
    """Another build holds the index folder's lock."""

    status = 409


class IndexWriteError(BeaconError):
    """The disk refused a write while building (full, quota, file too large); the live index is untouched."""

    status = 507
