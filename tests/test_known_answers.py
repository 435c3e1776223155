"""Known answers: with constant rates, no capacity limits, no ageing and constant arrivals, the
simulation is a continuous-time Markov chain whose expected occupancy is analytic (scipy expm)."""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad_vec
from scipy.linalg import expm

from hnsim.config import validate
from hnsim.model import compile_parameters, simulate
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR

from conftest import scaled_data

RATES = {"enhance": 0.3, "step_down": 0.2, "move_away": 0.05, "exclusion": 0.1, "ehe": 0.08, "reintegrate": 0.6, "return": 0.3}
ARRIVALS_PER_YEAR = 600.0
INITIAL = 800
STATES = (R.SEN_SUPPORT, R.SEN_SUPPORT_ENHANCED, R.AP_NO_PLAN, R.EHE_NO_PLAN)


def markov_config():
    """Children aged 5 arrive at a constant rate into SEN support and stay in primary for the horizon."""
    data = scaled_data(scale=0.0, end_date="2019-03-31", legacy=True)
    init = data["initial_population"]
    init["sen_support_by_age"]["value"] = {5: INITIAL}
    init["enhanced_share"]["value"] = 0.0
    ident = data["identification"]
    ident["new_per_year"]["value"] = ARRIVALS_PER_YEAR
    ident["age_weights"]["value"] = {5: 1.0}
    ident.pop("trend")
    s = data["sen_support"]
    for key in ("request_trend", "exclusion_trend", "ehe_trend"):
        s.pop(key, None)
    for key in ("request_need_multiplier", "exclusion_need_multiplier"):
        s[key]["value"] = {}
    s["request_rate"]["value"] = {}
    s["escalation_to_enhanced_rate"]["value"] = {"primary": RATES["enhance"]}
    s["step_down_rate"]["value"] = {"primary": RATES["step_down"]}
    s["move_away_rate"]["value"] = {"primary": RATES["move_away"]}
    s["exclusion_rate"]["value"] = {"primary": RATES["exclusion"]}
    s["ehe_rate"]["value"] = {"primary": RATES["ehe"]}
    ap = data["alternative_provision"]
    ap["reintegration_rate"]["value"] = {"primary": RATES["reintegrate"]}
    ap["ehe_return_rate"]["value"] = {"primary": RATES["return"]}
    return validate(data, "markov test config")


def generator_per_day() -> np.ndarray:
    """Generator over (SEN support, enhanced, AP, EHE); leaving the system is the missing mass."""
    r = {k: v / DAYS_PER_YEAR for k, v in RATES.items()}
    q = np.zeros((4, 4))
    q[0, 1], q[0, 2], q[0, 3] = r["enhance"], r["exclusion"], r["ehe"]
    q[1, 2], q[1, 3] = r["exclusion"], r["ehe"]
    q[2, 0] = r["reintegrate"]
    q[3, 0] = r["return"]
    exits = np.array([r["step_down"] + r["move_away"]] * 2 + [r["move_away"]] * 2)
    np.fill_diagonal(q, -(q.sum(axis=1) + exits))
    return q


def expected_occupancy(day: float) -> np.ndarray:
    q = generator_per_day()
    start = np.array([1.0, 0.0, 0.0, 0.0])
    initial = INITIAL * start @ expm(q * day)
    arrivals, _ = quad_vec(lambda s: start @ expm(q * (day - s)), 0.0, day)
    return initial + ARRIVALS_PER_YEAR / DAYS_PER_YEAR * arrivals


def test_no_plan_occupancy_matches_the_markov_chain():
    config = markov_config()
    params = compile_parameters(config)
    census = [day for _, day in params.calendar.census_days()]
    reps = 40
    counts = np.zeros((reps, len(census), len(STATES)))
    for rep in range(reps):
        log = simulate(config, rep, 2024, params)
        state = np.asarray(log.spell_state)
        start, end = np.asarray(log.spell_start), np.asarray(log.spell_end)
        assert set(np.unique(state)) <= set(STATES)  # nothing ages out, nothing requests
        for i, day in enumerate(census):
            on = (start <= day) & (end > day)
            counts[rep, i] = [np.count_nonzero(on & (state == s)) for s in STATES]
    mean = counts.mean(axis=0)
    stderr = counts.std(axis=0, ddof=1) / np.sqrt(reps)
    expected = np.array([expected_occupancy(day) for day in census])
    z = (mean - expected) / stderr
    # 20 comparisons: |z| < 4 for each, and the squared z's like a chi-square with 20 d.f.
    assert np.abs(z).max() < 4.0, np.round(z, 2)
    assert (z**2).sum() < 45.3  # 99.9th percentile of chi-square(20)
    # and the answer is not trivially near zero
    assert expected[:, 2].min() > 20 and expected[:, 0].min() > 500
