"""Tiny configs for exact and known-answer tests: nothing happens unless a test switches it on.

``quiet_data`` is the shipped config with every population, arrival and hazard set to zero, every
probability to 0 or 1, every duration fixed and every new plan in mainstream. A test then adds just
the children and the paths it means to follow.
"""

from __future__ import annotations

from typing import Any

from conftest import legacy_data as baseline_data  # the structure before trends, status-quo policies and ensembles

TEST = "test: set by hand"


def fixed(days: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": days, "source": TEST}


def sourced(value: Any) -> dict[str, Any]:
    return {"value": value, "source": TEST}


def every_phase(shares: dict[str, float]) -> dict[str, dict[str, float]]:
    return {phase: dict(shares) for phase in ("early_years", "primary", "secondary", "post16", "post19")}


def quiet_data(end_date: str = "2017-03-31") -> dict[str, Any]:
    """The shipped config with nothing in it: no children, no hazards, probabilities 0 or 1."""
    data = baseline_data()
    data.pop("calibration", None)
    data["simulation"]["end_date"] = end_date
    init = data["initial_population"]
    init["sen_support_by_age"] = sourced({})
    init["ehcp_by_age_band"] = sourced({})
    init["ehcp_setting_shares"] = sourced(every_phase({"mainstream": 1.0}))
    init["enhanced_share"] = sourced(0.0)
    init["ap_pupils_without_plan"] = sourced(0)
    init["ehe_without_plan"] = sourced(0)
    ident = data["identification"]
    ident.pop("trend", None)
    ident["new_per_year"] = sourced(0.0)
    ident["need_shares"] = sourced(every_phase({"ASD": 1.0}))  # never SEMH: one special pool per phase
    s = data["sen_support"]
    for key in ("request_trend", "exclusion_trend", "ehe_trend", "request_multiplier_by_year"):
        s.pop(key, None)
    for key in ("request_rate", "escalation_to_enhanced_rate", "step_down_rate", "move_away_rate", "exclusion_rate", "ehe_rate"):
        s[key] = sourced({})
    for key in ("request_need_multiplier", "exclusion_need_multiplier"):
        s[key] = sourced({})
    s["enhanced_request_multiplier"] = sourced(1.0)
    ap = data["alternative_provision"]
    ap["reintegration_rate"] = sourced({})
    ap["ehe_return_rate"] = sourced({})
    ap["direct_entries_per_year"] = sourced(0.0)
    a = data["assessment"]
    a.pop("refusal_probability_by_year", None)
    a.update(
        decision_days=fixed(42), refusal_probability=sourced(0.0), appeal_probability=sourced(0.0), tribunal_days=fixed(100),
        tribunal_finds_for_parents=sourced(0.0), team_capacity=sourced(1000), assessment_days=fixed(70), drafting_days=fixed(28),
        plan_probability=sourced(1.0),
    )
    pl = data["placement"]
    pl["first_setting_shares"] = sourced(every_phase({"mainstream": 1.0}))
    pl["special_need_multiplier"] = sourced({})
    pl["when_special_full"] = {"independent_probability": sourced(1.0)}
    pl["transfer"] = {
        "mainstream_to_special_probability": sourced({}),
        "post16_destinations": sourced({group: {"stay": 1.0} for group in ("school", "special", "independent")}),
        "post19_continue_probability": sourced(1.0),
    }
    e = data["ehcp"]
    for key in list(e):
        if key.endswith("_rate") or key.endswith("_multiplier"):
            e[key] = sourced({})
    e["move_in_per_year"] = sourced(0.0)
    e["move_in_age_weights"] = sourced({})
    e["post16_conversions_by_year"] = sourced({})
    data["capacity"] = {"places": sourced(dict.fromkeys(("special_primary", "special_secondary", "special_post16", "semh_secondary"), 0)), "expansions": []}
    return data
