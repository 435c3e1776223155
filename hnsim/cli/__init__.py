"""Command line: a thin shell over the Python API. Each module adds its commands to ``main``."""

from hnsim.cli import run  # noqa: F401  (registers check, run)
from hnsim.cli.common import main

__all__ = ["main"]
