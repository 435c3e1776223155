"""Pure functions from tables to tables: summaries, intervals, savings and decomposition,
sensitivity indices, calibration targets, national tables. Nothing here runs the model or writes files."""

from hnsim.analysis.summary import SUMMARY_COLUMNS, summarise, wide

__all__ = ["SUMMARY_COLUMNS", "summarise", "wide"]
