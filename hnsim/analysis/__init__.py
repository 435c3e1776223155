"""Analysis of results: summaries, intervals, calibration and comparison."""

from hnsim.analysis.summary import SUMMARY_COLUMNS, summarise, wide

__all__ = ["SUMMARY_COLUMNS", "summarise", "wide"]
