"""Published data: DfE's SEN2 release files, and observed series for calibration.

``DataError`` is raised for files that cannot be used; like :class:`hnsim.config.ConfigError` it
carries one line per problem in ``problems`` (the command line prints them and exits with code 2).
"""

from hnsim.data.errors import DataError

__all__ = ["DataError"]
