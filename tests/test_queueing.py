"""Known answers for the assessment team: queueing theory and Little's law.

Children are identified as a Poisson stream and request an assessment at once; the decision takes
a fixed time and nobody is refused, so requests reach the team as a Poisson stream. The team is a
multi-server queue: M/M/c with exponential assessments (mean wait from Erlang's C formula), M/D/1
with fixed ones (Pollaczek-Khinchine). Everything is read from the public event log.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hnsim.config import validate
from hnsim.model import compile_parameters, simulate
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR

from tiny_configs import quiet_data, sourced

WARM_UP, COOL_DOWN = 365.0, 200.0  # days left out at each end: the queue starts empty; late requests are cut off
REPLICATIONS = 16
DECISION, DRAFTING = 7.0, 3.0  # fixed days before and after the team's work: not part of the wait


def erlang_c_wait(arrivals_per_day: float, mean_service_days: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = arrivals_per_day * mean_service_days
    rho = a / servers
    assert rho < 1
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait * mean_service_days / (servers * (1 - rho))


def md1_wait(arrivals_per_day: float, service_days: float) -> float:
    """Mean wait in queue of M/D/1 (Pollaczek-Khinchine)."""
    rho = arrivals_per_day * service_days
    return rho * service_days / (2 * (1 - rho))


def queue_config(arrivals_per_day: float, service: dict, servers: int):
    data = quiet_data(end_date="2024-03-31")
    ident = data["identification"]
    ident["new_per_year"] = sourced(arrivals_per_day * DAYS_PER_YEAR)
    ident["age_weights"] = sourced({6: 1.0})
    data["sen_support"]["request_rate"] = sourced({"primary": 1e6})  # a request within a minute of identification
    a = data["assessment"]
    a["decision_days"] = {"dist": "fixed", "value": DECISION, "source": "test"}
    a["drafting_days"] = {"dist": "fixed", "value": DRAFTING, "source": "test"}
    a["assessment_days"] = {**service, "source": "test"}
    a["team_capacity"] = sourced(servers)
    return validate(data, "queue test config")


def replication_statistics(config, replication: int) -> tuple[float, float, float, float]:
    """Per replication, over the window after warm-up: arrival rate, mean wait in queue, mean time
    in assessment (request to plan), and the time-average number of children in assessment."""
    params = compile_parameters(config)
    log = simulate(config, replication, 101, params)
    horizon = params.calendar.horizon
    first, last = WARM_UP, horizon - COOL_DOWN
    day, code = np.asarray(log.event_day), np.asarray(log.event_code)
    value, child = np.asarray(log.event_value), np.asarray(log.event_child)
    request = {c: d for c, d in zip(child[code == R.EV_REQUEST], day[code == R.EV_REQUEST])}
    plan = {c: d for c, d in zip(child[code == R.EV_NEW_EHCP], day[code == R.EV_NEW_EHCP])}
    wait = {c: v for c, v in zip(child[code == R.EV_ASSESSMENT_START], value[code == R.EV_ASSESSMENT_START])}
    in_window = [c for c, d in request.items() if first <= d < last]
    assert all(c in plan for c in in_window)  # nobody is stuck
    rate = len(in_window) / (last - first)
    mean_wait = float(np.mean([wait[c] for c in in_window]))
    mean_time = float(np.mean([plan[c] - request[c] for c in in_window]))
    # number in assessment from the request and plan dates alone (not from the logged waits)
    starts = np.array(list(request.values()))
    ends = np.array([plan.get(c, np.inf) for c in request])
    number = np.clip(np.minimum(ends, last) - np.maximum(starts, first), 0, None).sum() / (last - first)
    return rate, mean_wait, mean_time, number


@pytest.mark.parametrize(
    "service, servers, theory",
    [
        ({"dist": "exponential", "mean": 10.0}, 2, erlang_c_wait(0.15, 10.0, 2)),
        ({"dist": "exponential", "mean": 10.0}, 3, erlang_c_wait(0.15, 10.0, 3)),
        ({"dist": "fixed", "value": 5.0}, 1, md1_wait(0.15, 5.0)),
    ],
    ids=["M/M/2", "M/M/3", "M/D/1"],
)
def test_assessment_team_matches_queueing_theory_and_littles_law(service, servers, theory):
    arrivals = 0.15
    mean_service = service.get("mean", service.get("value"))
    config = queue_config(arrivals, service, servers)
    stats = np.array([replication_statistics(config, r) for r in range(REPLICATIONS)])
    mean, stderr = stats.mean(axis=0), stats.std(axis=0, ddof=1) / math.sqrt(REPLICATIONS)
    rate, wait, time_in, number = range(4)
    z = lambda i, expected: (mean[i] - expected) / stderr[i]  # noqa: E731
    assert abs(z(rate, arrivals)) < 4, (mean[rate], stderr[rate])
    assert abs(z(wait, theory)) < 4, (mean[wait], theory, stderr[wait])
    in_assessment = DECISION + theory + mean_service + DRAFTING
    assert abs(z(time_in, in_assessment)) < 4
    # Little's law: the number in assessment is the arrival rate times the time in assessment
    assert abs(z(number, arrivals * in_assessment)) < 4, (mean[number], arrivals * in_assessment, stderr[number])
    # and the test has power: the wait is many standard errors from zero, and is only the wait
    assert theory > 5 * stderr[wait]
    assert mean[time_in] - mean[wait] == pytest.approx(DECISION + mean_service + DRAFTING, rel=0.05)
