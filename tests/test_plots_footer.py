"""The footer of every figure stays on the page however long its data and funding note is."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hnsim.plots.style import provenance


def test_a_long_note_is_set_smaller_and_stays_inside_the_figure():
    note = ("Data to January 2019 (fitted); later years are projections. Funding: the High Needs Block allocation as given for "
            "2014-15 to 2019-20, then +2.3% a year (uncertain: 0.0% to 4.6% a year).")
    for width in (6.3, 4.0):
        fig = Figure(figsize=(width, 4.0), dpi=100)
        provenance(fig, "hnsim · run x", note)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        text = fig.texts[1]
        assert text.get_window_extent(canvas.get_renderer()).x1 <= fig.get_figwidth() * fig.dpi or text.get_fontsize() == 3.5
    short = Figure(figsize=(6.3, 4.0))
    provenance(short, "hnsim", "Data to January 2019 (fitted).")
    assert short.texts[1].get_fontsize() == 5.0  # a short note keeps the house size
