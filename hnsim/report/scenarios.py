"""Describing the scenarios of a comparison from the configs its manifest holds: what each one
switches on or changes, what each lever costs, the range of its effect and the evidence for it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hnsim.config import outlook
from hnsim.config.paths import display
from hnsim.plots import labels, style

HAZARD_WORDS = {
    "identification": "children newly identified",
    "sen_support.request": "requests for assessment from SEN support",
    "sen_support.escalation": "escalation to enhanced SEN support",
    "sen_support.step_down": "stepping down from SEN support",
    "sen_support.exclusion": "permanent exclusions of pupils on SEN support",
    "sen_support.ehe": "de-registration to home education",
    "ap.reintegration": "reintegration from alternative provision",
    "ehcp.mainstream_to_special": "moves from mainstream to special school",
    "ehcp.exclusion": "permanent exclusions of pupils with plans",
    "ehcp.ap_return": "returns from AP for pupils with plans",
    "ehcp.ceasing_needs_met": "plans ceasing with needs met",
    "ehcp.leave_education": "plans ceasing on leaving education",
}
RANGE_WORDS = {
    "refusal_change": ("refusals to assess", "points"),
    "plan_probability_change": ("assessments ending in a plan", "points"),
    "appeal_change": ("refusals appealed", "points"),
    "transfer_to_special_change": ("moves to special school at phase transfer", "percent"),
    "bespoke_share": ("would-be independent placements given a bespoke package instead", "share"),
    "post16_specialist_to_fe_share": ("specialist post-16 places that become FE or supported internships", "share"),
    "allocation_transfer_gbp": ("money moved into the High Needs Block each year", "gbp"),
}


def _signed(value: float) -> str:
    text = f"{100 * value:+.0f}"
    return "0" if text in ("+0", "-0") else text


def _range(low: float, high: float, unit: str) -> str:
    if unit == "gbp":
        return f"{style.money_text(low)} to {style.money_text(high)}"
    if unit == "share":
        return f"{100 * low:.0f}% to {100 * high:.0f}%"
    if unit == "points":
        return f"{_signed(low)} to {_signed(high)} percentage points"
    return f"{_signed(low)}% to {_signed(high)}%"


def effect_lines(lever: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what changes, the range, the source) of every effect of a lever (plain config data)."""
    out = []
    for effect in lever.get("hazard_effects") or []:
        phases = effect.get("phases") or []
        where = f" ({', '.join(p.replace('_', ' ') for p in phases)})" if phases and len(phases) < 5 else ""
        change = effect["change"]
        out.append((f"{HAZARD_WORDS.get(effect['hazard'], effect['hazard'])}{where}", _range(change["low"], change["high"], "percent"), change.get("source", "")))
    for place in lever.get("extra_places") or []:
        delay = place.get("delay_months")
        late = f", opening 0-{delay['high']:g} months late" if delay and delay.get("high") else ""
        text = f"{place['places']} new {place['pool'].replace('_', ' ')} places from {place['opening_date']}{late}"
        out.append(("special places", text, place.get("source", "") + (f"; delay: {delay['source']}" if delay else "")))
    for key, (what, unit) in RANGE_WORDS.items():
        rng = lever.get(key)
        if rng:
            out.append((what, _range(rng["low"], rng["high"], unit), rng.get("source", "")))
    return out


def lever_summary(name: str, lever: dict[str, Any]) -> str:
    """One sentence: the lever's label, what it is, when it starts and ramps up, and what it costs."""
    ramp = (lever.get("ramp_up_years") or {}).get("value", 0)
    cost = (lever.get("annual_cost_gbp") or {}).get("value", 0)
    end = f" until {lever['end_date']}" if lever.get("end_date") else ""
    ramp_text = "at full effect at once" if not ramp else f"reaching full effect over {ramp:g} year{'s' if ramp != 1 else ''}"
    cost_text = f"its own running cost {style.money_text(cost)} a year at the price base" if cost else "no running cost of its own charged to the block"
    return f"{labels.lever_label(name, lever)}: {lever.get('description', '').rstrip('.')}; from {lever.get('start_date')}{end}, {ramp_text}; {cost_text}."


def scenario_items(names: dict[str, str], configs: dict[str, dict[str, Any]], base: str) -> list[str]:
    """One line per scenario: its label and what it switches on or changes against the base."""
    base_data = configs.get(base, {})
    items = []
    for name, label in names.items():
        data = configs.get(name)
        if name == base or data is None:
            meta = base_data.get("meta", {})
            items.append(f"{label}: {meta.get('name', name)}. {meta.get('description', '')}".strip())
            continue
        on = outlook.enabled_levers(base_data, data)
        other = [p for p in outlook.changed_paths(base_data, data) if not p.startswith("levers.") and not p.startswith("meta.")]
        parts = []
        if on:
            parts.append("switches on " + ", ".join(labels.lever_label(k, data["levers"][k]) for k in on))
        changed_levers = sorted({p.split(".")[1] for p in outlook.changed_paths(base_data, data) if p.startswith("levers.") and p.split(".")[1] not in on})
        if changed_levers:
            parts.append("changes " + ", ".join(labels.lever_label(k, data["levers"].get(k)) for k in changed_levers))
        if other:
            parts.append("changes " + ", ".join(display(p) for p in sorted({p.rsplit(".source", 1)[0] for p in other})))
        items.append(f"{label} ({name}): " + ("; ".join(parts) if parts else "the same inputs as the base") + ".")
    return items


def lever_table(names: dict[str, str], configs: dict[str, dict[str, Any]], base: str) -> pd.DataFrame:
    """Every lever a scenario switches on (or changes): ``scenario, lever, what it does, effect, range, source``."""
    base_data = configs.get(base, {})
    rows = []
    for name, label in names.items():
        data = configs.get(name)
        if name == base or data is None:
            continue
        changed = {p.split(".")[1] for p in outlook.changed_paths(base_data, data) if p.startswith("levers.")}
        for key in [k for k in (data.get("levers") or {}) if k in changed and data["levers"][k].get("enabled")]:
            lever = data["levers"][key]
            effects = effect_lines(lever) or [("money only", "", "")]
            for i, (what, rng, source) in enumerate(effects):
                rows.append({"scenario": label, "lever": lever_summary(key, lever) if i == 0 else "", "effect on": what, "range": rng, "source": source})
    return pd.DataFrame(rows, columns=["scenario", "lever", "effect on", "range", "source"])


def change_table(names: dict[str, str], configs: dict[str, dict[str, Any]], base: str) -> pd.DataFrame:
    """Inputs a scenario changes outside its levers: ``scenario, parameter, base value, scenario value``."""
    from hnsim.config.paths import normalise

    def at(data: Any, path: str) -> Any:
        node = data
        for key in normalise(path).split("."):
            node = node[int(key)] if isinstance(node, list) else node.get(key) if isinstance(node, dict) else None
        return node

    base_data = configs.get(base, {})
    rows = []
    for name, label in names.items():
        data = configs.get(name)
        if name == base or data is None:
            continue
        for path in outlook.changed_paths(base_data, data):
            if path.startswith(("levers.", "meta.")) or path.endswith(".source"):
                continue
            rows.append({"scenario": label, "parameter": display(path), "base value": str(at(base_data, path)), "scenario value": str(at(data, path))})
    return pd.DataFrame(rows, columns=["scenario", "parameter", "base value", "scenario value"])
