"""The model description, generated from a run's manifest in the order of the STRESS-DES checklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import pandas as pd

from hnsim.config import schema


@dataclass
class Section:
    """A heading, its paragraphs and optionally a table (with a caption)."""

    heading: str
    paragraphs: list[str]
    table: pd.DataFrame | None = None
    table_caption: str = ""
    bullets: list[str] = field(default_factory=list)


def sourced_entries(config: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """Every entry of a resolved config that carries a ``source``: (dotted path, value, source).

    A ``{value, source}`` entry yields its value; an entry with other fields (a distribution, a
    setting cost, a capacity expansion) yields those fields without the empty ones. List items are
    addressed ``path[i]``.
    """
    if isinstance(config, dict):
        if "source" in config and isinstance(config["source"], str):
            if "value" in config and config["value"] is not None and set(config) <= {"value", "source"}:
                value = config["value"]
            else:
                value = {k: v for k, v in config.items() if k != "source" and v is not None}
            yield prefix, value, config["source"]
            inner = {k: v for k, v in config.items() if isinstance(v, (dict, list)) and k != "value"}
            for key, sub in inner.items():
                yield from sourced_entries(sub, f"{prefix}.{key}")
            return
        for key, sub in config.items():
            yield from sourced_entries(sub, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(config, list):
        for i, item in enumerate(config):
            yield from sourced_entries(item, f"{prefix}[{i}]")


def unsourced_entries(config: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Settings outside any sourced entry (dates, seed, deadlines): (dotted path, value); ``meta`` is skipped."""
    if isinstance(config, dict):
        if "source" in config:
            return
        for key, sub in config.items():
            if not prefix and key == "meta":
                continue
            yield from unsourced_entries(sub, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(config, list):
        for i, item in enumerate(config):
            yield from unsourced_entries(item, f"{prefix}[{i}]")
    else:
        yield prefix, config


def format_value(value: Any, money: bool = False) -> str:
    """A compact, readable rendering of a parameter value (thousands separators for money)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v, money or 'gbp' in str(k))}" for k, v in value.items())
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)) and money:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def describe_field(path: str) -> str:
    """The schema's description of a dotted config path ('' when there is none)."""
    model: Any = schema.Config
    text = ""
    for part in path.split("."):
        name = part.split("[")[0]
        fields = getattr(model, "model_fields", None)
        if not fields or name not in fields:
            return text if model is not schema.Config else ""
        info = fields[name]
        text = info.description or ""
        model = info.annotation
        args = getattr(model, "__args__", None)
        if args and not hasattr(model, "model_fields"):
            model = next((a for a in args if hasattr(a, "model_fields")), model)
    return text


UNSOURCED = "setting (no source needed: a date, seed or statutory rule)"


def parameter_table(config: dict[str, Any]) -> pd.DataFrame:
    """Every input: ``parameter`` (dotted path), ``meaning`` (from the schema), ``value``, ``source``.

    Sourced entries first, in config order, then the settings that carry no source.
    """
    rows = [{"parameter": p, "meaning": describe_field(p), "value": format_value(v, "gbp" in p), "source": s} for p, v, s in sourced_entries(config)]
    rows += [{"parameter": p, "meaning": describe_field(p), "value": format_value(v, "gbp" in p), "source": UNSOURCED} for p, v in unsourced_entries(config)]
    return pd.DataFrame(rows, columns=["parameter", "meaning", "value", "source"])


def assumptions(table: pd.DataFrame) -> pd.DataFrame:
    """The parameters whose source starts with 'assumption:'."""
    return table[table["source"].str.strip().str.lower().str.startswith("assumption:")].reset_index(drop=True)


def _or(value: Any, missing: str = "not recorded") -> str:
    return missing if value in (None, "", "?") else str(value)


def stress_des(manifest: dict[str, Any], scenarios: list[str], cfg: dict[str, Any] | None = None, bands: str = "") -> list[Section]:
    """The model description sections, in STRESS-DES order, from a run manifest and the base
    scenario's resolved config ``cfg`` (default the manifest's ``config``); ``bands`` says what the
    figures' bands hold."""
    cfg = cfg if cfg is not None else manifest.get("config", {})
    meta, sim = cfg.get("meta", {}), cfg.get("simulation", {})
    la = meta.get("local_authority", "the local authority")
    params = parameter_table(cfg)
    assumed = assumptions(params)
    places = (cfg.get("capacity", {}).get("places", {}).get("value") or {})
    pools = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in places.items()) or "none given"
    team = cfg.get("assessment", {}).get("team_capacity", {}).get("value")
    reps = _or(manifest.get("replications"))
    software = manifest.get("software", {})
    wall = manifest.get("wall_seconds")
    expansions = cfg.get("capacity", {}).get("expansions") or []
    sections = [
        Section("1. Objectives", [
            f"The model projects demand for special educational needs provision in {la} and its cost to the High Needs Block, "
            "to show how numbers of EHCPs, placements, High Needs spend and the DSG deficit develop under the status quo and under "
            "the strategy's actions, and what each action saves against its own cost. Outcomes: EHCPs by setting, age and need at each "
            "January census; assessment requests, new plans, timeliness and waits in each financial year; spend by budget line, the "
            "allocation, the in-year balance and the cumulative deficit.",
            f"Base config: {_or(meta.get('name'))}. {meta.get('description', '')}".strip(),
        ]),
        Section("2. Logic", [
            "Children become known when an additional need is identified (a Poisson stream by age with a trend, plus an initial "
            "population). Without a plan they face competing hazards by phase and need: a request for an EHC needs assessment, "
            "escalation to enhanced SEN support (MyPlan+), stepping down, moving away, permanent exclusion to alternative provision, "
            "de-registration to elective home education, and leaving at the end of year 11. A request is decided within six weeks; "
            "refusals may be appealed to the SEND Tribunal; an assessment waits for the assessment team, then a plan is issued or not. "
            "A plan names a setting by phase and need; a special place is taken from a pool of finite capacity, or when none is free the "
            "child goes to an independent placement or waits in mainstream on an interim top-up. Placements are reconsidered at phase "
            "transfer; plan holders move between settings, are excluded, move in and away, and plans cease. Each day of provision is "
            "charged to a High Needs budget line; stocks, flows and costs are derived from each child's logged spells and events.",
        ]),
        Section("3. Entities and resources", [
            "Entities: children and young people aged 0 to 25, each with a date of birth, a primary need (SEMH, ASD, SLCN, MLD, other) "
            "and a setting.",
            (f"Resources: the assessment team (a SimPy resource of capacity {team} concurrent assessments)" if team is not None else "Resources: the assessment team (a SimPy resource)")
            + f"; special school place pools at the start ({pools})"
            + (f", with {len(expansions)} capacity change{'s' if len(expansions) != 1 else ''} on dates" if expansions else "")
            + "; no limit on mainstream, independent, AP or post-16 places.",
        ]),
        Section("4. Input parameters", [
            f"Every input of the base scenario's resolved config with its value and source ({len(params)} entries). Rates are hazards per year, "
            "durations days, money pounds a year at the price base. Paths are written as docs/config.md describes (a list item as [i]).",
        ], params, "Table A1. Input parameters (path in the config, meaning, value, source)."),
        Section("5. Assumptions", [
            f"{len(assumed)} of the {len(params)} inputs rest on an assumption rather than a published figure; each is listed with its "
            "reasoning. These are the first candidates for calibration and sensitivity analysis.",
        ], assumed[["parameter", "source"]], "Table A2. Inputs resting on assumptions."),
        Section("6. Run length and warm-up", [
            f"Simulated from {_or(sim.get('start_date'))} to {_or(sim.get('end_date'))}. There is no warm-up: the model starts from the "
            "population known at the start date (SEN support by age; plans by age band and setting), and results are reported for every "
            "financial year.",
        ]),
        Section("7. Replications and intervals", [
            f"{reps} independent replications per scenario. Figures show the mean of the replications with bands of their percentiles "
            "(the middle 50% and 90%). " + (bands + " " if bands else "") + "Tables give the mean with the Student-t 95% confidence interval "
            "of the mean (mean \u00b1 t(0.975, n\u22121) \u00b7 sd / \u221an), which measures Monte Carlo error, not the uncertainty in the inputs. "
            "Savings between scenarios are differences paired replication by replication.",
        ]),
        Section("8. Random numbers", [
            f"One root seed ({_or(manifest.get('seed'))}). Replication r draws each activity stream from numpy "
            "SeedSequence(seed, spawn_key=(r, stream id)) with an append-only map of stream names; every child draws from its own "
            "counter-based stream keyed by where it came from and its index there, so scenarios share random numbers child by child "
            "(common random numbers). The same config and seed give identical results whatever the number of worker processes.",
        ]),
        Section("9. Software and run time", [
            ", ".join(f"{k} {v}" for k, v in software.items()) or "Software versions not recorded.",
            f"Run started {_or(manifest.get('started_at'))}, finished {_or(manifest.get('finished_at'))}; "
            f"{_or(wall)} seconds on {_or(manifest.get('workers'))} worker process(es); "
            f"{manifest.get('sim_events') or 0:,} simulation events. Config sha256 {_hashes(manifest.get('config_sha256') or 'not recorded')}. "
            f"Scenarios: {', '.join(scenarios)}.",
        ]),
    ]
    return sections


def _hashes(sha: object) -> str:
    """A config hash, or each scenario's for a comparison."""
    if isinstance(sha, dict):
        return "; ".join(f"{name} {value}" for name, value in sha.items())
    return str(sha)
