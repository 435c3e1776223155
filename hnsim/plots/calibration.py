"""Fit charts: the simulated history of a calibrated config as a fan, with the published figures on top."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from hnsim.plots.fans import fan_chart
from hnsim.plots.prepare import fan, with_observed

#: (metric, title, money) of each fit chart.
FIT_CHARTS = (
    ("ehcp_total", "EHCPs at the January census", False),
    ("assessment_requests_calendar_year", "Requests for assessment, calendar year", False),
    ("new_ehcps_calendar_year", "New EHCPs, calendar year", False),
    ("ehcp_special", "EHCPs in special schools (January)", False),
    ("ehcp_post16", "EHCPs in FE and post-16 (January)", False),
    ("ehcp_age_16_19", "EHCPs aged 16-19 (January)", False),
    ("spend_total", "High Needs spend", True),
    ("cumulative_deficit", "Cumulative High Needs deficit at 31 March", True),
)


def fit_charts(annual: pd.DataFrame, observed: pd.DataFrame) -> list[tuple[str, Figure]]:
    """``(metric, figure)`` for every fit chart whose metric the long ``annual`` table (one
    parameter set: ``replication, financial_year, metric, value``) holds."""
    frame = annual.assign(scenario="calibrated")
    charts = []
    for metric, title, money in FIT_CHARTS:
        try:
            data = with_observed(fan(frame, metric), observed, metric)
        except ValueError:  # the metric is not in the table
            continue
        charts.append((metric, fan_chart(data, title, "£" if money else "plans", money=money)))
    return charts
