"""The one error every layer raises for bad input: a list of problems, one line each.

The command line prints each line and exits with code 2. The problems survive pickling, so an
error raised in a worker process reaches the user whole.
"""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be used; ``problems`` holds one line per problem."""

    separator = "\n"

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(self.separator.join(self.problems))

    def __reduce__(self):
        return (type(self), (self.problems,))
