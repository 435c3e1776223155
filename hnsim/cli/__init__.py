"""Command line: a thin shell over the Python API. Each module adds its commands to ``main``."""

from hnsim.cli import compare, experiment, run  # noqa: F401  (register their commands)
from hnsim.cli import sweep  # noqa: F401  (registers sweep, seek)
from hnsim.cli import data  # noqa: F401
from hnsim.cli import report  # noqa: F401
from hnsim.cli import calibrate  # noqa: F401  (registers calibrate, backtest)
from hnsim.cli import national  # noqa: F401
from hnsim.cli import skill  # noqa: F401
from hnsim.cli import forecast  # noqa: F401
from hnsim.cli.common import main

__all__ = ["main"]
