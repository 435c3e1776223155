"""Figures: pure functions, DataFrame in, matplotlib Figure out, in one house style (``style``).

``prepare`` computes the numbers a figure draws from result tables; the drawing functions take
those frames and never run the model.
"""

from hnsim.plots.fans import fan_chart, fan_panels, timeliness_chart
from hnsim.plots.flow import flow_diagram
from hnsim.plots.money import comparison_chart, placement_chart, spend_chart
from hnsim.plots.sweeps import heatmap_chart, tornado_chart

__all__ = ["fan_chart", "fan_panels", "timeliness_chart", "flow_diagram", "comparison_chart", "placement_chart", "spend_chart", "heatmap_chart", "tornado_chart"]
