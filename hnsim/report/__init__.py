"""Reports built from results directories: figures, DSG-plan tables and the paper appendix."""

from hnsim.report.build import FORMATS, Report, ReportInputError, build_report

__all__ = ["FORMATS", "Report", "ReportInputError", "build_report"]
