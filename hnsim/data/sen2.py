"""Reader for DfE's SEN2 release files ("Education, health and care plans"), as councils download them.

Point it at the directory holding the underlying data files (``sen2_age_caseload.csv``,
``sen2_estab_caseload.csv``, ``sen2_age_new_plans.csv``, ``sen2_estab_new_plans.csv``,
``sen2_mi.csv``) and name an area by name or code: a local authority (``Gloucestershire``,
``E10000013`` or ``916``), a region (``South West``, ``E12000009``) or ``England``.

- Every file holds national, regional and local-authority rows (``geographic_level``).
- ``z`` (not applicable) and DfE's other symbols (``c`` suppressed, ``x`` / ``:`` / ``..`` not
  available, ``u`` low reliability, ``~`` / ``low`` rounds to zero, ``-``, empty) are read as missing;
  any other text in a count column is an error naming the file, line and column.
- Authorities are followed across code changes: all rows with one ``old_la_code`` are one authority
  even where ``new_la_code`` changed (Gateshead and Northumberland in 2014). Reorganised authorities
  are linked to their predecessors (:data:`REORGANISATIONS`): for years before its own rows, an
  authority's series is the sum of the predecessors that lie wholly or mostly inside it, and every
  row says where it came from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hnsim.data.errors import DataError

#: Columns every SEN2 file has: time and geography.
GEOGRAPHY = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code", "region_name", "old_la_code", "new_la_code", "la_name")
#: DfE symbols for a value that is missing, suppressed, not applicable or rounds to zero.
MISSING_SYMBOLS = ("z", "c", "x", "u", "..", ":", "~", "low", "-", "")

MI_EHC = ("InreqEHC", "AssRefusedEHC", "NewallEHC", "AssnoneEHC", "MtosiEHC", "SitomEHC", "DisleaEHC", "DismetEHC", "DisothEHC", "DisleftEHC")


@dataclass(frozen=True)
class FileSpec:
    """One SEN2 file: its name, the columns that split rows, and the count columns read."""

    filename: str
    what: str
    filters: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


FILES: dict[str, FileSpec] = {
    "age_caseload": FileSpec("sen2_age_caseload.csv", "January caseload by age band", ("characteristic_age",), ("Total_all", "Total_ehc", "Total_st")),
    "estab_caseload": FileSpec("sen2_estab_caseload.csv", "January caseload by establishment type", ("establishment_group", "establishment_type"), ("Total_all", "Total_ehc", "Total_st")),
    "age_new_plans": FileSpec("sen2_age_new_plans.csv", "new plans in the calendar year by age band", ("characteristic_age",), ("Total_new_all", "Total_new_ehc", "Total_new_st")),
    "estab_new_plans": FileSpec("sen2_estab_new_plans.csv", "new plans in the calendar year by establishment type", ("establishment_group", "establishment_type"), ("Total_new_all", "Total_new_ehc", "Total_new_st")),
    "mi": FileSpec("sen2_mi.csv", "requests, assessments, moves and discontinued plans by calendar year", (), MI_EHC,
                   ("AssRefused", "Assnone", "Mtosi", "Sitom", "Dislea", "Dismet", "Disoth", "Disleft", "IncExc20weekRate", "NewEHCTribunal", "MtoParEHC", "SitoParEHC")),
}

#: Authorities created by reorganisation: new old_la_code -> (year of first SEN2 rows, predecessors
#: as (old_la_code, "whole" | "most" | "part"), note). Whole and most predecessors are summed for the
#: years before the new authority's own rows; a part predecessor is left out and named in the note.
REORGANISATIONS: dict[str, tuple[int, tuple[tuple[str, str], ...], str]] = {
    "839": (2019, (("837", "whole"), ("836", "whole"), ("835", "part")), "Bournemouth, Christchurch and Poole formed 1 April 2019 from Bournemouth, Poole and Christchurch; Christchurch was part of Dorset county (835) and is not separable"),
    "838": (2019, (("835", "most"),), "Dorset Council formed 1 April 2019 from Dorset county (835) less Christchurch"),
    "940": (2021, (("928", "part"),), "North Northamptonshire formed 1 April 2021 from part of Northamptonshire (928)"),
    "941": (2021, (("928", "part"),), "West Northamptonshire formed 1 April 2021 from part of Northamptonshire (928)"),
    "942": (2023, (("909", "part"),), "Cumberland formed 1 April 2023 from part of Cumbria (909)"),
    "943": (2023, (("909", "part"),), "Westmorland and Furness formed 1 April 2023 from part of Cumbria (909)"),
}

LEVEL_LA, LEVEL_REGION, LEVEL_NATIONAL = "Local authority", "Regional", "National"


@dataclass(frozen=True)
class Authority:
    """An area in the SEN2 files: a local authority (followed across code changes), a region or England."""

    name: str
    level: str
    old_la_code: str
    new_la_code: str
    region_name: str
    first_year: int
    last_year: int
    codes: tuple[tuple[str, str, str], ...] = ()  # every (old_la_code, new_la_code, la_name) used
    predecessors: tuple[tuple[str, str], ...] = ()  # (old_la_code, "whole" | "most" | "part")
    successors: tuple[str, ...] = ()
    note: str = ""

    @property
    def slug(self) -> str:
        """Its name for files: 'Bournemouth, Christchurch and Poole' -> 'bournemouth-christchurch-and-poole'."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    @property
    def label(self) -> str:
        """How a council analyst would name it: 'Gloucestershire (916, E10000013)'."""
        if self.level != LEVEL_LA:
            return f"{self.name} ({self.new_la_code})"
        return f"{self.name} ({self.old_la_code}, {self.new_la_code})"


def _check_dir(directory: str | Path) -> Path:
    path = Path(directory)
    if not path.is_dir():
        raise DataError([f"{path}: SEN2 directory not found (expected the DfE files {', '.join(s.filename for s in FILES.values())})"])
    return path


def read_file(directory: str | Path, key: str) -> pd.DataFrame:
    """One SEN2 file as published: geography columns as text, count columns as floats (missing = NaN).

    Raises :class:`DataError` naming the file when it is absent, lacks columns, or holds text that is
    neither a number nor a DfE symbol.
    """
    spec = FILES[key]
    path = _check_dir(directory) / spec.filename
    if not path.is_file():
        raise DataError([f"{path}: file not found (expected DfE's SEN2 file '{spec.filename}': {spec.what})"])
    stat = path.stat()
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, key).copy()


@lru_cache(maxsize=16)
def _read_cached(path: str, _mtime: int, _size: int, key: str) -> pd.DataFrame:
    spec = FILES[key]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError([f"{path}: not a readable CSV file ({exc})"]) from None
    raw.columns = [c.strip() for c in raw.columns]
    expected = GEOGRAPHY + spec.filters + spec.required
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise DataError([f"{path}: missing column(s) {', '.join(missing)}; expected DfE's SEN2 '{spec.filename}' ({spec.what}) with columns {', '.join(expected)} (see data-guidance.txt)"])
    out = raw[[*GEOGRAPHY, *spec.filters]].apply(lambda s: s.str.strip())
    problems = []
    for column in spec.required + tuple(c for c in spec.optional if c in raw.columns):
        text = raw[column].str.strip()
        symbol = text.str.lower().isin(MISSING_SYMBOLS)
        numbers = pd.to_numeric(text.where(~symbol), errors="coerce")
        bad = numbers.isna() & ~symbol
        for index in np.flatnonzero(bad.to_numpy())[:5]:
            problems.append(f"{path}: line {index + 2}, column {column}: '{text.iloc[index]}' is neither a number nor a DfE symbol ({', '.join(repr(s) for s in MISSING_SYMBOLS)})")
        out[column] = numbers.astype(float)
    if problems:
        raise DataError(problems)
    years = pd.to_numeric(out["time_period"], errors="coerce")
    if years.isna().any():
        line = int(np.flatnonzero(years.isna().to_numpy())[0]) + 2
        raise DataError([f"{path}: line {line}, column time_period: expected a year like 2019, got '{out['time_period'].iloc[line - 2]}'"])
    out["year"] = years.astype(int)
    return out


def _normalise(name: str) -> str:
    text = name.lower().replace("&", " and ")
    text = re.sub(r",\s*(city|county) of$", "", text.strip())
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def list_authorities(directory: str | Path) -> list[Authority]:
    """Every local authority in the caseload and activity files, one per ``old_la_code``, by name."""
    return sorted(_authorities_in(directory).values(), key=lambda a: (a.name, a.first_year))


def _authorities_in(directory: str | Path) -> dict[str, Authority]:
    """The authorities of a directory's caseload and activity files, worked out once per version of
    the files (finding one is asked for several times per starter config)."""
    frames = [read_file(directory, key) for key in ("age_caseload", "mi")]  # checks the files and names any problem
    paths = [Path(directory) / FILES[key].filename for key in ("age_caseload", "mi")]
    return _authorities_cached(tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths), frames)


_AUTHORITIES: dict[tuple, dict[str, Authority]] = {}


def _authorities_cached(key: tuple, frames: list[pd.DataFrame]) -> dict[str, Authority]:
    if key not in _AUTHORITIES:
        if len(_AUTHORITIES) >= 16:
            _AUTHORITIES.pop(next(iter(_AUTHORITIES)))
        _AUTHORITIES[key] = _authorities(frames)
    return _AUTHORITIES[key]


def _authorities(frames: list[pd.DataFrame]) -> dict[str, Authority]:
    rows = pd.concat([f.loc[f["geographic_level"] == LEVEL_LA, ["year", "old_la_code", "new_la_code", "la_name", "region_name"]] for f in frames])
    successors: dict[str, list[str]] = {}
    for new, (_, preds, _) in REORGANISATIONS.items():
        for old, _share in preds:
            successors.setdefault(old, []).append(new)
    found = {}
    for old, group in rows.groupby("old_la_code"):
        group = group.sort_values("year")
        last = group.iloc[-1]
        codes = tuple(sorted({(str(r.old_la_code), str(r.new_la_code), str(r.la_name)) for r in group.itertuples()}))
        first_own, preds, note = REORGANISATIONS.get(str(old), (0, (), ""))
        found[str(old)] = Authority(
            name=str(last["la_name"]), level=LEVEL_LA, old_la_code=str(old), new_la_code=str(last["new_la_code"]),
            region_name=str(last["region_name"]), first_year=int(group["year"].min()), last_year=int(group["year"].max()),
            codes=codes, predecessors=preds, successors=tuple(successors.get(str(old), ())), note=note,
        )
    return found


def find_authority(directory: str | Path, name_or_code: str) -> Authority:
    """An area by name or code: local authority (name, new_la_code E06/E08/E09/E10..., old_la_code
    such as 916), region (name or E12 code) or England (name or E92000001).

    A name used by two authorities (Dorset before and after 2019) gives the one in the latest files;
    use the old code (835) for the other. Raises :class:`DataError` with close names when nothing matches.
    """
    query = str(name_or_code).strip()
    authorities = _authorities_in(directory)
    if query in authorities:
        return authorities[query]
    for auth in authorities.values():
        if any(query.upper() == new.upper() for _, new, _ in auth.codes):
            return auth
    wanted = _normalise(query)
    by_name = [a for a in authorities.values() if any(_normalise(name) == wanted for _, _, name in a.codes)]
    if by_name:
        return max(by_name, key=lambda a: (a.last_year, a.first_year))
    area = _find_area([read_file(directory, key) for key in ("age_caseload", "mi")], query, wanted)
    if area is not None:
        return area
    names = sorted({n for a in authorities.values() for _, _, n in a.codes})
    close = difflib.get_close_matches(query, names, n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; run `hnsim observed --list --data DIR` to see every authority"
    raise DataError([f"{Path(directory) / FILES['age_caseload'].filename}: no local authority, region or England matches '{query}' (by name, new_la_code or old_la_code){hint}"])


def _find_area(frames: list[pd.DataFrame], query: str, wanted: str) -> Authority | None:
    rows = frames[0]
    national = rows[rows["geographic_level"] == LEVEL_NATIONAL]
    if wanted in ("england", "national") or query.upper() == "E92000001":
        return Authority("England", LEVEL_NATIONAL, "", "E92000001", "", int(national["year"].min()), int(national["year"].max()))
    regions = rows[rows["geographic_level"] == LEVEL_REGION]
    match = regions[(regions["region_code"].str.upper() == query.upper()) | (regions["region_name"].map(_normalise) == wanted)]
    if match.empty:
        return None
    r = match.iloc[0]
    return Authority(str(r["region_name"]), LEVEL_REGION, "", str(r["region_code"]), str(r["region_name"]), int(match["year"].min()), int(match["year"].max()))


def area_rows(directory: str | Path, key: str, area: Authority | str) -> pd.DataFrame:
    """The rows of one SEN2 file for an area, with ``source_la`` saying which authority each came from.

    For years before a reorganised authority's own rows, its whole and most predecessors are summed
    (missing if any of them is missing), and ``source_la`` names them.
    """
    auth = area if isinstance(area, Authority) else find_authority(directory, area)
    data = read_file(directory, key)
    if auth.level == LEVEL_NATIONAL:
        own = data[data["geographic_level"] == LEVEL_NATIONAL].copy()
        own["source_la"] = "England"
        return own.reset_index(drop=True)
    if auth.level == LEVEL_REGION:
        own = data[(data["geographic_level"] == LEVEL_REGION) & (data["region_code"] == auth.new_la_code)].copy()
        own["source_la"] = auth.name
        return own.reset_index(drop=True)
    las = data[data["geographic_level"] == LEVEL_LA]
    own = las[las["old_la_code"] == auth.old_la_code].copy()
    own["source_la"] = [f"{n} ({o}, {c})" for n, o, c in zip(own["la_name"], own["old_la_code"], own["new_la_code"])]
    summed = [p for p, share in auth.predecessors if share in ("whole", "most")]
    if not summed:
        return own.reset_index(drop=True)
    before = las[las["old_la_code"].isin(summed) & ~las["year"].isin(own["year"].unique())]
    if before.empty:
        return own.reset_index(drop=True)
    spec = FILES[key]
    values = [c for c in before.columns if c not in GEOGRAPHY + spec.filters + ("year",)]
    keys = ["year", "time_period", *spec.filters]
    combined = before.groupby(keys, sort=False)[values].sum(min_count=len(summed)).reset_index()
    counts = before.groupby(keys, sort=False)["old_la_code"].nunique().reset_index(drop=True)
    combined.loc[counts.to_numpy() < len(summed), values] = np.nan
    names = {o: n for o, n in zip(las["old_la_code"], las["la_name"])}
    parts = [f"{names.get(p, p)} ({p}){'' if share == 'whole' else ', ' + share}" for p, share in auth.predecessors]
    combined["source_la"] = "predecessors: " + " + ".join(parts[i] for i, (p, s) in enumerate(auth.predecessors) if p in summed)
    if any(s == "part" for _, s in auth.predecessors):
        combined["source_la"] += "; left out: " + ", ".join(parts[i] for i, (_, s) in enumerate(auth.predecessors) if s == "part")
    for column, value in (("geographic_level", LEVEL_LA), ("old_la_code", auth.old_la_code), ("new_la_code", auth.new_la_code), ("la_name", auth.name), ("region_name", auth.region_name)):
        combined[column] = value
    return pd.concat([combined, own], ignore_index=True).sort_values("year", kind="stable").reset_index(drop=True)


def _tidy(frame: pd.DataFrame, filters: tuple[str, ...], columns: dict[str, str]) -> pd.DataFrame:
    out = frame[["year", *filters, *columns, "source_la"]].rename(columns=columns)
    return out.sort_values(["year", *filters], kind="stable").reset_index(drop=True)


def caseload_by_age(directory: str | Path, la: Authority | str) -> pd.DataFrame:
    """January caseload by age band: ``year, characteristic_age, plans, ehc, statements, source_la``.

    ``plans`` is statements and EHC plans combined (``Total_all``); ``year`` is the January census year.
    """
    return _tidy(area_rows(directory, "age_caseload", la), ("characteristic_age",), {"Total_all": "plans", "Total_ehc": "ehc", "Total_st": "statements"})


def caseload_by_setting(directory: str | Path, la: Authority | str) -> pd.DataFrame:
    """January caseload by setting: ``year, establishment_group, establishment_type, plans, ehc, statements, source_la``."""
    return _tidy(area_rows(directory, "estab_caseload", la), ("establishment_group", "establishment_type"), {"Total_all": "plans", "Total_ehc": "ehc", "Total_st": "statements"})


def new_plans_by_age(directory: str | Path, la: Authority | str) -> pd.DataFrame:
    """New plans in the calendar year by age band: ``year, characteristic_age, plans, ehc, statements, source_la``."""
    return _tidy(area_rows(directory, "age_new_plans", la), ("characteristic_age",), {"Total_new_all": "plans", "Total_new_ehc": "ehc", "Total_new_st": "statements"})


def new_plans_by_setting(directory: str | Path, la: Authority | str) -> pd.DataFrame:
    """New plans in the calendar year by setting at issue: ``year, establishment_group, establishment_type, plans, ehc, statements, source_la``."""
    return _tidy(area_rows(directory, "estab_new_plans", la), ("establishment_group", "establishment_type"), {"Total_new_all": "plans", "Total_new_ehc": "ehc", "Total_new_st": "statements"})


def assessment_activity(directory: str | Path, la: Authority | str) -> pd.DataFrame:
    """Assessment activity by calendar year, one row a year: ``year``, every ``sen2_mi.csv`` count
    column read (DfE's names: InreqEHC, AssRefusedEHC, ..., and the statement columns where present)
    and ``source_la``."""
    spec = FILES["mi"]
    frame = area_rows(directory, "mi", la)
    columns = [c for c in spec.required + spec.optional if c in frame.columns]
    return frame[["year", *columns, "source_la"]].sort_values("year").reset_index(drop=True)
