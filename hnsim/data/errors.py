"""The error raised for data files that cannot be used."""

from __future__ import annotations


class DataError(Exception):
    """Data that cannot be used; ``problems`` holds one line per problem (file, row, column, what is allowed)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
