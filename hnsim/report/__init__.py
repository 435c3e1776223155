"""Reports built from results directories: figures, DSG-plan tables and the paper appendix."""

from hnsim.report.build import FORMATS, Report, build_report
from hnsim.results.rundir import ReportInputError, load, load_observed

__all__ = ["FORMATS", "Report", "ReportInputError", "build_report", "load", "load_observed"]
