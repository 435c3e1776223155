"""The command group and what every command shares: reporting bad input and interruptions.

Exit codes: 0 success, 1 a run failed, 2 bad input (config, data, arguments or an output
directory that cannot be written), 3 a goal-seek whose target is met nowhere in its range,
130 interrupted.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, NoReturn

import click

from hnsim import __version__
from hnsim.errors import InputError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_TARGET_NOT_MET = 3
EXIT_INTERRUPTED = 130


def fail_input(problems: list[str]) -> NoReturn:
    """Print one line per problem and exit with code 2."""
    for line in problems:
        click.echo(f"error: {line}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def warn(lines: list[str]) -> None:
    """Print warnings (one line each, to stderr): what a reader must know before quoting the numbers."""
    for line in lines:
        click.echo(f"warning: {line}", err=True)


@contextmanager
def reported(interrupted: str = "interrupted") -> Iterator[None]:
    """Turn bad input into its lines and exit 2, and Ctrl-C into ``interrupted`` and exit 130."""
    try:
        yield
    except InputError as exc:
        fail_input(exc.problems)
    except KeyboardInterrupt:
        click.echo(interrupted, err=True)
        sys.exit(EXIT_INTERRUPTED)


def workers_option(help_text: str = "Local processes (default: all cores).") -> click.Option:
    """``--workers/-w``, shared by the commands that run replications."""
    return click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help=help_text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hnsim")
def main() -> None:
    """hnsim: simulate SEND provision and the High Needs Block."""
