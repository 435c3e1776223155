"""The error raised for data files that cannot be used."""

from __future__ import annotations

from hnsim.errors import InputError


class DataError(InputError):
    """Data that cannot be used; ``problems`` holds one line per problem (file, row, column, what is allowed)."""
