"""A starter config for any local authority, from its SEN2 figures (``hnsim init``).

Starts from the starter template (``hnsim/data/templates/starter.yaml``, package data: structure
and literature assumptions, no value fitted to any year) and replaces what is the authority's own:
the EHCP caseload by age band and setting at a January census, assessment refusal and plan rates,
request volumes, moves between settings, transfers out, and special school capacity. What SEN2 does
not hold keeps a default marked as such: unit costs as ``national default: ...``, behaviour without
a local figure as ``template default: ...`` (to calibrate), and money the council must supply (High
Needs allocation, opening deficit, central spend) as ``assumption: NOT GIVEN ...`` scaled by caseload.

The template is sized for a reference authority (Gloucestershire's January 2015 caseload); counts
are rescaled by the ratio of the authority's caseload to the reference authority's, and rates by
ratios of the two authorities' SEN2 figures, both read from the same files. Everything read comes
from the files given, so a directory truncated at a forecast origin (:mod:`hnsim.data.vantage`)
gives a starter config that knows nothing after it: activity means use the latest
:data:`ACTIVITY_YEARS_USED` calendar years in the files, and the request trend stops at the end of
the last of them.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from hnsim.data import sen2
from hnsim.data.errors import DataError

#: The starter template, shipped inside the package so that an installed hnsim finds it.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "starter.yaml"
REFERENCE_LA = "916"  # Gloucestershire: the reference authority whose size the template's counts are for
NOT_GIVEN = "assumption: NOT GIVEN — replace with the authority's own figure (scaled from Gloucestershire by caseload)"
TEMPLATE_DEFAULT = "template default (hnsim starter template: an assumption, not this authority's figure; calibrate or replace)"
NATIONAL_DEFAULT = "national default"
ACTIVITY_YEARS_USED = 4  # calendar years of activity averaged: the latest four in the files (2016-2019 in the 2019 release)
SPECIAL_MARGIN = 1.05
BAND_PHASE = {"Under 5": "early_years", "Age 5 to 10": "primary", "Age 11 to 15": "secondary", "Age 16 to 19": "post16", "Age 20 to 25": "post19"}
#: Settings of plans in phases where the template has none (assumption: relative weights).
EXTRA_SEED = {
    "post16": {"post16_fe": 1.0, "post16_specialist": 0.2, "other": 0.05, "ap": 0.01},
    "post19": {"post16_fe": 1.0, "post16_specialist": 0.3, "special": 0.1, "independent": 0.05, "other": 0.2},
}
#: hnsim setting -> SEN2 (establishment_group, types or "*").
SETTING_PARTS = {
    "resourced": (("Mainstream school", ("Mainstream - LA maintained - SEN unit", "Mainstream - LA maintained - Resourced provision", "Mainstream - Academy - SEN unit", "Mainstream - Academy - Resourced Provision", "Mainstream - Free school - SEN unit", "Mainstream - Free school - Resourced provision")),),
    "mainstream": (("Mainstream school", ("*",)),),  # less resourced, below
    "special": (("Special school", ("Special - LA maintained", "Special - Academy/free", "Special - Academy", "Special - Free school")),),
    "independent": (("Special school", ("Special - Independent", "Special - Non-maintained")),),
    "ap": (("Alternative provision/Pupil referral unit", ("*",)),),
    "post16_specialist": (("Further education", ("Specialist post-16 institutions", "Independent specialist providers")),),
    "post16_fe": (("Further education", ("*",)),),  # less specialist, below
    "early_years": (("Non-maintained early years", ("*",)),),
    "other": (("Educated elsewhere", ("*",)), ("NEET", ("*",)), ("Other", ("*",)), ("Unknown", ("*",)), ("Special school", ("Hospital School",))),
}


def settings_in_year(rows: pd.DataFrame, year: int) -> dict[str, float]:
    """Plans by hnsim setting (config keys) in one year from SEN2 setting rows (caseload or new plans)."""
    rows = rows[(rows["year"] == year) & (rows["establishment_group"] != "Total")]
    out = {}
    for setting, parts in SETTING_PARTS.items():
        total = 0.0
        for group, types in parts:
            chosen = rows[rows["establishment_group"] == group]
            chosen = chosen[chosen["establishment_type"] == "Total"] if types == ("*",) else chosen[chosen["establishment_type"].isin(types)]
            total += float(chosen["plans"].fillna(0).sum())
        out[setting] = total
    out["mainstream"] = max(0.0, out["mainstream"] - out["resourced"])
    out["post16_fe"] = max(0.0, out["post16_fe"] - out["post16_specialist"])
    return out


def rake(seed: dict[str, dict[str, float]], row_totals: dict[str, float], col_totals: dict[str, float], iterations: int = 200) -> dict[str, dict[str, float]]:
    """Shares by row from iterative proportional fitting of ``seed`` to row and column totals.

    Rows whose total is zero, or whose seed meets no column with a total, keep the seed's shares.
    """
    cells = {r: {c: w * (1.0 if col_totals.get(c, 0) > 0 else 0.0) for c, w in seed[r].items()} for r in seed}
    for _ in range(iterations):
        for r, row in cells.items():
            s = sum(row.values())
            if s > 0 and row_totals.get(r, 0) > 0:
                cells[r] = {c: v * row_totals[r] / s for c, v in row.items()}
        for c in col_totals:
            s = sum(row.get(c, 0.0) for r, row in cells.items() if row_totals.get(r, 0) > 0)
            if s > 0:
                for r, row in cells.items():
                    if c in row and row_totals.get(r, 0) > 0:
                        row[c] *= col_totals[c] / s
    shares = {}
    for r in seed:
        row = cells[r] if sum(cells[r].values()) > 0 and row_totals.get(r, 0) > 0 else seed[r]
        shares[r] = _normalised(row)
    return shares


def _normalised(row: dict[str, float]) -> dict[str, float]:
    total = sum(row.values())
    out = {c: round(v / total, 6) for c, v in row.items() if v / total >= 5e-7}
    biggest = max(out, key=out.get)
    out[biggest] = round(out[biggest] + 1.0 - sum(out.values()), 6)
    return out


def _seed(template: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The template's settings by phase, with the settings it lacks in post-16 and post-19 added at small weights."""
    seed = {ph: {**EXTRA_SEED.get(ph, {}), **shares} for ph, shares in template.items()}
    for ph, extra in EXTRA_SEED.items():
        seed.setdefault(ph, dict(extra))
    return seed


def _mark_defaults(node: Any, marker: str) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("source"), str) and not node["source"].startswith(marker):
            node["source"] = f"{marker}: {node['source']}"
        for value in node.values():
            _mark_defaults(value, marker)
    elif isinstance(node, list):
        for value in node:
            _mark_defaults(value, marker)


def _scaled_rates(rates: dict[str, float], factor: float) -> dict[str, float]:
    return {k: round(v * factor, 6) for k, v in rates.items()}


class _Figures:
    """One authority's SEN2 figures used for a starter config."""

    def __init__(self, directory: str | Path, auth: sen2.Authority, census: int):
        self.auth = auth
        ages = sen2.caseload_by_age(directory, auth)
        self.ages_all = ages
        self.ages = {r.characteristic_age: float(r.plans) for r in ages[ages["year"] == census].itertuples() if pd.notna(r.plans)}
        if not self.ages.get("Total"):
            raise DataError([f"{Path(directory) / sen2.FILES['age_caseload'].filename}: no January {census} caseload for {auth.label}"])
        self.total = self.ages["Total"]
        self.where = str(ages[ages["year"] == census]["source_la"].iloc[0])
        self.settings = settings_in_year(sen2.caseload_by_setting(directory, auth), census)
        mi = sen2.assessment_activity(directory, auth).set_index("year")
        self.years = activity_years(mi.index)
        self.mi = mi.loc[list(self.years)]
        by_setting = sen2.caseload_by_setting(directory, auth)
        # caseload in the same years as the activity it is compared with (January censuses of those years, where held)
        self.caseload_years = tuple(y for y in self.years if y in set(ages["year"]) and y in set(by_setting["year"]))
        self.settings_by_year = {y: settings_in_year(by_setting, y) for y in self.caseload_years}
        new_age, new_set = sen2.new_plans_by_age(directory, auth), sen2.new_plans_by_setting(directory, auth)
        years = sorted(new_age["year"].unique())[-3:]
        self.new_years = years
        self.new_by_phase = {BAND_PHASE[b]: float(new_age[(new_age["year"].isin(years)) & (new_age["characteristic_age"] == b)]["plans"].fillna(0).sum()) for b in BAND_PHASE}
        sums: dict[str, float] = {}
        for y in years:
            for k, v in settings_in_year(new_set, y).items():
                sums[k] = sums.get(k, 0.0) + v
        self.new_by_setting = sums

    def mean(self, column: str) -> float:
        values = self.mi[column].dropna() if column in self.mi else pd.Series(dtype=float)
        return float(values.mean()) if len(values) else float("nan")

    def caseload_mean(self, what: str) -> float:
        """Mean January caseload over the activity years: 'total', or a setting key."""
        if not self.caseload_years:
            return float("nan")
        if what == "total":
            t = self.ages_all[(self.ages_all["characteristic_age"] == "Total") & self.ages_all["year"].isin(self.caseload_years)]["plans"]
            return float(t.mean())
        return float(sum(s[what] for s in self.settings_by_year.values()) / len(self.settings_by_year))


#: The January by which every statement was to have become an EHC plan (Children and Families Act
#: 2014 transition: conversions to finish by 1 April 2018); a transfer at 19 from September 2018 on has an EHC plan.
CONVERSION_DONE_JANUARY = 2019


def leaving_school_ehcp_share(ages: pd.DataFrame, first_january: int = 2015) -> tuple[dict[str, float], str] | None:
    """The share of plans that survive leaving school during the transition to the 2014 rules, by
    financial year of the transfer (to FE or a specialist college at 16, or continuing past 19),
    and its source; None if no January from ``first_january`` publishes the split.

    A statement ended when its holder left school, so only a plan converted (or made) under the 2014
    rules could go on in college. The share is the 16-19 band's EHC plans over all its plans
    (``ages``: :func:`hnsim.data.sen2.caseload_by_age`) in the January inside the transfer's
    financial year (September 2014: January 2015); the band holds both transfers' young people. A
    January the files do not hold, before the transition's end, is linear between the Januaries
    either side (the last one published and 1 in January 2019, after the files end), or, before
    the first one published, takes its share. The share
    leans high: the band also holds young people already in college, all with EHC plans, and
    conversions made between September and January."""
    rows = ages[(ages["characteristic_age"] == "Age 16 to 19") & (ages["year"] >= first_january) & (ages["plans"] > 0) & ages["ehc"].notna()]
    known = {int(r.year): (float(r.ehc), float(r.plans)) for r in rows.itertuples() if r.year < CONVERSION_DONE_JANUARY}
    if not known:
        return None
    years = sorted(known) + [CONVERSION_DONE_JANUARY]
    values = [min(1.0, known[y][0] / known[y][1]) for y in sorted(known)] + [1.0]
    # linear between the Januaries either side; before the first published, its share (np.interp holds the edge)
    shares = {january: float(np.interp(january, years, values)) for january in range(first_january, CONVERSION_DONE_JANUARY)}
    published = ", ".join(f"{y} {known[y][0]:,.0f} of {known[y][1]:,.0f}" for y in sorted(known) if y in shares)
    guessed = [y for y in shares if y not in known]
    source = (f"SEN2 sen2_age_caseload.csv Total_ehc / Total_all, 'Age 16 to 19', January of the transfer's financial year ({published})"
              + (f"; January {', '.join(map(str, guessed))}: assumption: linear between the Januaries either side, every plan converted by January "
                 f"{CONVERSION_DONE_JANUARY} (the transition ended on 1 April 2018)" if guessed else ""))
    return {f"{y - 1}-{y % 100:02d}": round(v, 4) for y, v in sorted(shares.items())}, source


def activity_years(years) -> tuple[int, ...]:
    """The calendar years of activity a starter config averages: the latest :data:`ACTIVITY_YEARS_USED` held."""
    return tuple(sorted(int(y) for y in set(years))[-ACTIVITY_YEARS_USED:])


def starter_config(directory: str | Path, la: str, template: str | Path = TEMPLATE) -> tuple[dict[str, Any], list[str]]:
    """The starter config for an authority as plain data, and the warnings to show (values NOT GIVEN)."""
    data = yaml.safe_load(Path(template).read_text(encoding="utf-8"))
    auth = sen2.find_authority(directory, la)
    if auth.level != sen2.LEVEL_LA:
        raise DataError([f"'{la}' is {auth.level.lower()} ({auth.name}); hnsim init needs a local authority"])
    start = data["simulation"]["start_date"]
    start_year = start.year if isinstance(start, dt.date) else int(str(start)[:4])
    censuses = sorted(sen2.caseload_by_age(directory, auth)["year"].unique())
    usable = [y for y in censuses if y <= start_year + 1]
    if not usable:
        raise DataError([f"no January census in the SEN2 files for {auth.label} up to {start_year + 1}"])
    census = int(usable[-1])
    la_f, ref = _Figures(directory, auth, census), _Figures(directory, sen2.find_authority(directory, REFERENCE_LA), census)
    scale = la_f.total / ref.total
    for section in ("costs",):
        _mark_defaults(data[section], NATIONAL_DEFAULT)
    for section in data:
        if section not in ("meta", "simulation", "costs"):
            _mark_defaults(data[section], TEMPLATE_DEFAULT)
    a = auth.label
    jan = f"January {census}, {la_f.where}"
    ref_size = f"{a} {la_f.total:,.0f} plans / reference authority Gloucestershire {ref.total:,.0f}, SEN2 {jan}"
    by_caseload = f"{NOT_GIVEN}: Gloucestershire value x {scale:.3f} ({a} {la_f.total:,.0f} plans / Gloucestershire {ref.total:,.0f}, SEN2 {jan})"
    data["meta"] = {"name": f"{auth.name} starter config", "description": f"Written by hnsim init from the SEN2 files for {a}: its own caseload and activity, defaults elsewhere, marked in every source. Calibrate before use.",
                    "local_authority": auth.name, "new_la_code": auth.new_la_code, "old_la_code": auth.old_la_code}

    init = data["initial_population"]
    bands = {"under5": "Under 5", "5-10": "Age 5 to 10", "11-15": "Age 11 to 15", "16-19": "Age 16 to 19", "20-25": "Age 20 to 25"}
    init["ehcp_by_age_band"] = {"value": {k: int(la_f.ages.get(v, 0)) for k, v in bands.items()}, "source": f"SEN2 sen2_age_caseload.csv Total_all by characteristic_age, {jan} (the latest January census up to the start year + 1)"}
    seed = _seed(init["ehcp_setting_shares"]["value"])
    rows = {BAND_PHASE[b]: la_f.ages.get(b, 0.0) for b in BAND_PHASE}
    counts = ", ".join(f"{k} {v:,.0f}" for k, v in la_f.settings.items())
    init["ehcp_setting_shares"] = {"value": rake(seed, rows, la_f.settings), "source": f"derived: SEN2 sen2_estab_caseload.csv Total_all, {jan} ({counts}) raked to the age bands (phase by age band) from the starter template's pattern of settings by phase (assumption: iterative proportional fitting)"}
    for key in ("sen_support_by_age",):
        init[key]["value"] = {k: int(round(v * scale)) for k, v in init[key]["value"].items()}
        init[key]["source"] = f"assumption: the template's figures x {scale:.3f} by EHCP caseload ({ref_size}); SEN2 holds no SEN support counts — replace with the school census"
    for key in ("ap_pupils_without_plan", "ehe_without_plan"):
        init[key] = {"value": int(round(init[key]["value"] * scale)), "source": f"assumption: the template's figure x {scale:.3f} by EHCP caseload ({ref_size}); SEN2 does not hold it"}
    ident = data["identification"]
    ident["new_per_year"] = {"value": round(ident["new_per_year"]["value"] * scale, 1), "source": f"assumption: the template's figure x {scale:.3f} by EHCP caseload ({ref_size}); to calibrate"}
    data["alternative_provision"]["direct_entries_per_year"] = {"value": round(data["alternative_provision"]["direct_entries_per_year"]["value"] * scale, 1), "source": f"assumption: the template's figure x {scale:.3f} by EHCP caseload ({ref_size})"}

    years = ", ".join(str(y) for y in la_f.mi.index)
    req, ref_req = la_f.mean("InreqEHC"), ref.mean("InreqEHC")
    req_scale = req / ref_req if ref_req > 0 and req == req else scale
    ss = data["sen_support"]
    ss["request_rate"] = {"value": _scaled_rates(ss["request_rate"]["value"], req_scale / scale), "source": f"derived: the template's rates x {req_scale / scale:.3f} so that requests scale with SEN2 sen2_mi.csv InreqEHC (mean {req:,.0f} a year {years}, reference authority Gloucestershire {ref_req:,.0f}) on a population scaled by caseload ({scale:.3f})"}
    trends = data.get("trends")
    if trends and la_f.years:  # the trend is fitted to the years observed and damped after them
        trends["data_end"] = dt.date(la_f.years[-1], 12, 31)
        trends["damping"]["source"] += f"; damped from 31 December {la_f.years[-1]}, the last calendar year of activity in the SEN2 files"
    fe = data["assessment"].get("post16_requests_per_year")
    if fe:
        data["assessment"]["post16_requests_per_year"] = {"value": round(fe["value"] * req_scale, 1), "source": fe["source"] + f"; x {req_scale:.3f} by requests relative to the reference authority"}
    asm = data["assessment"]
    refusal = {}
    for y, r in la_f.mi.iterrows():
        if r.get("InreqEHC", 0) > 0 and pd.notna(r.get("AssRefusedEHC")):
            refusal[f"{y}-{(y + 1) % 100:02d}"] = round(min(1.0, r["AssRefusedEHC"] / r["InreqEHC"]), 4)
    both = la_f.mi[(la_f.mi["InreqEHC"] > 0) & la_f.mi["AssRefusedEHC"].notna()]  # years with requests and refusals both published
    refused_total, requested = both["AssRefusedEHC"].sum(), both["InreqEHC"].sum()
    if requested > 0:
        asm["refusal_probability"] = {"value": round(float(refused_total / requested), 4), "source": f"SEN2 sen2_mi.csv AssRefusedEHC / InreqEHC, {a}, {', '.join(str(y) for y in both.index)} ({refused_total:,.0f} of {requested:,.0f})"}
        asm["refusal_probability_by_year"] = {"value": refusal, "source": f"SEN2 sen2_mi.csv AssRefusedEHC / InreqEHC by calendar year, {a}, placed on the financial year holding April-December of that year"}
    issued, no_plan = la_f.mi["NewallEHC"].sum(), la_f.mi["AssnoneEHC"].sum()
    if issued + no_plan > 0:
        asm["plan_probability"] = {"value": round(float(issued / (issued + no_plan)), 4), "source": f"SEN2 sen2_mi.csv NewallEHC / (NewallEHC + AssnoneEHC), {a}, {years} ({issued:,.0f} plans, {no_plan:,.0f} assessed without a plan)"}
    asm["team_capacity"] = {"value": max(1, int(round(asm["team_capacity"]["value"] * req_scale))), "source": f"assumption: the template's {asm['team_capacity']['value']} x {req_scale:.3f} by requests for assessment relative to the reference authority (SEN2 InreqEHC {years}); to calibrate against the 20-week share"}

    new_seed = _seed(data["placement"]["first_setting_shares"]["value"])
    if sum(la_f.new_by_setting.values()) > 0:
        new_counts = ", ".join(f"{k} {v:,.0f}" for k, v in la_f.new_by_setting.items())
        data["placement"]["first_setting_shares"] = {"value": rake(new_seed, la_f.new_by_phase, la_f.new_by_setting), "source": f"derived: SEN2 sen2_estab_new_plans.csv Total_new_all, {a}, {la_f.new_years[0]}-{la_f.new_years[-1]} ({new_counts}) raked to new plans by age band (sen2_age_new_plans.csv) from the starter template's pattern (assumption: iterative proportional fitting)"}

    ehcp = data["ehcp"]
    moves_out = la_f.mean("DisleaEHC")
    if moves_out == moves_out:
        rate = moves_out / la_f.caseload_mean("total")
        ehcp["move_away_rate"] = {"value": {ph: round(rate, 6) for ph in ehcp["move_away_rate"]["value"]}, "source": f"SEN2 sen2_mi.csv DisleaEHC (plans transferred to another LA) mean {moves_out:,.1f} a year {years} / mean January caseload {la_f.caseload_mean('total'):,.0f}, {a}"}
        ehcp["move_in_per_year"] = {"value": round(moves_out, 1), "source": f"assumption: moves in balance moves out (SEN2 DisleaEHC mean {moves_out:,.1f} a year {years}, {a}); SEN2 does not count moves in"}
    for key, column, base in (("mainstream_to_special_rate", "MtosiEHC", "mainstream"), ("special_to_mainstream_rate", "SitomEHC", "special")):
        mine, theirs = la_f.mean(column) / max(la_f.caseload_mean(base), 1), ref.mean(column) / max(ref.caseload_mean(base), 1)
        if theirs > 0 and mine == mine:
            ehcp[key] = {"value": _scaled_rates(ehcp[key]["value"], mine / theirs), "source": f"derived: the template's rates x {mine / theirs:.3f}, the ratio of SEN2 sen2_mi.csv {column} per plan in {base} ({a} {mine:.4f}, reference authority Gloucestershire {theirs:.4f}, {years})"}
    transfer = data["placement"]["transfer"]
    converted = leaving_school_ehcp_share(la_f.ages_all)
    if converted is not None:  # the transition's statements ending on leaving school, from the authority's own figures
        value, source = converted
        transfer["leaving_school_ehcp_share_by_year"] = {"value": value, "source": f"{source}, {a}"}
        transfer.pop("post16_cease_probability_by_year", None)  # the template's round figures for the same statements ending at 16
    ehcp["post16_conversions_by_year"] = {"value": {k: round(v * scale, 1) for k, v in ehcp["post16_conversions_by_year"]["value"].items()}, "source": f"assumption: the template's figures x {scale:.3f} by EHCP caseload ({ref_size})"}

    special = la_f.settings["special"]
    pools = data["capacity"]["places"]["value"]
    total_pools = sum(pools.values())
    data["capacity"] = {"places": {"value": {p: int(round(special * SPECIAL_MARGIN * n / total_pools)) for p, n in pools.items()}, "source": f"derived: SEN2 sen2_estab_caseload.csv plans in maintained, academy and free special schools, {jan}: {special:,.0f} x {SPECIAL_MARGIN} (assumption: places a little above placements), split across pools as in the starter template"}, "expansions": []}
    commissioning = (data.get("status_quo") or {}).get("commissioning")
    if commissioning:  # a step and a ceiling in proportion to the authority's special schools
        for key in ("places_per_step", "ceiling"):
            node = commissioning[key]
            node["value"] = max(1, int(round(node["value"] * scale)))
            node["source"] += f"; x {scale:.3f} by caseload"

    data["costs"]["central_spend_gbp"] = {"value": round(data["costs"]["central_spend_gbp"]["value"] * scale, -3), "source": by_caseload}
    fin = data["finance"]
    fin["hnb_allocation_gbp"] = {"value": {k: round(v * scale, -3) for k, v in fin["hnb_allocation_gbp"]["value"].items()}, "source": by_caseload}
    fin["opening_cumulative_deficit_gbp"] = {"value": round(fin["opening_cumulative_deficit_gbp"]["value"] * scale, -3), "source": by_caseload}
    warnings = [f"{path}: NOT GIVEN — scaled from Gloucestershire by caseload (x {scale:.3f}); replace with {auth.name}'s own figure"
                for path in ("finance.hnb_allocation_gbp", "finance.opening_cumulative_deficit_gbp", "costs.central_spend_gbp")]
    return data, warnings


def write_starter(directory: str | Path, la: str, out: str | Path, template: str | Path = TEMPLATE) -> tuple[Path, list[str]]:
    """Write the starter config YAML for an authority; return its path and the warnings."""
    data, warnings = starter_config(directory, la, template)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# hnsim starter config for {data['meta']['local_authority']}, written by `hnsim init` on {dt.date.today().isoformat()}\n"
              f"# from the SEN2 files in {directory}. Every value says where it comes from: 'SEN2 ...' or 'derived: ...'\n"
              f"# for this authority's own figures; '{NATIONAL_DEFAULT}: ...' and '{TEMPLATE_DEFAULT}: ...' where\n"
              f"# SEN2 has no figure; 'assumption: NOT GIVEN' where the council must give its own figure.\n")
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200), encoding="utf-8")
    tmp.replace(out)
    return out, warnings
