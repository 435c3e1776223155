"""The command group and what every command shares: loading configs and reporting bad input.

Exit codes: 0 success, 1 a run failed, 2 bad input (config, data or arguments), 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from hnsim import __version__
from hnsim.config import Config, ConfigError, load_config

EXIT_BAD_INPUT = 2


def fail_input(problems: list[str]) -> NoReturn:
    """Print one line per problem and exit with code 2."""
    for line in problems:
        click.echo(f"error: {line}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def load_or_exit(path: str, overlays: tuple[str, ...] = ()) -> Config:
    """Load and validate a config, or print its problems and exit 2."""
    try:
        return load_config(path, overlays)
    except ConfigError as exc:
        fail_input(exc.problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hnsim")
def main() -> None:
    """hnsim: simulate SEND provision and the High Needs Block."""
