"""Shared fixtures: the shipped config, and small fast variants of it for logic tests; the DfE SEN2
files for the tests marked ``sen2``.

The SEN2 files are looked for in ``shared/data/sen2`` beside the clone (or ``HNSIM_SEN2_DIR``).
Without them the ``sen2`` tests are skipped, and the run ends by saying how many and why; in CI
(the environment variable ``CI`` set) they must run, and each fails loudly instead.
"""

from __future__ import annotations

import copy
import functools
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from hnsim.config import Config, validate
from hnsim.config.ensemble import attach_members

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "gloucestershire.yaml"
#: The baseline before trends, status-quo policies and ensembles: what "a config without them" means.
LEGACY = ROOT / "tests" / "data" / "gloucestershire_2019_structure.yaml"
SEN2_DIR = Path(os.environ.get("HNSIM_SEN2_DIR") or ROOT.parent / "shared" / "data" / "sen2")
SEN2_MISSING = f"DfE SEN2 files not found at {SEN2_DIR} (shared/ beside the clone, or HNSIM_SEN2_DIR)"


def in_ci() -> bool:
    """Whether the tests run in continuous integration (``CI`` set, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sen2: needs the DfE SEN2 files (skipped without them, an error in CI)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("sen2") and not SEN2_DIR.is_dir():
        if in_ci():
            pytest.fail(f"{SEN2_MISSING}: in CI (CI is set) the SEN2 tests must run", pytrace=False)
        pytest.skip(SEN2_MISSING)


def pytest_terminal_summary(terminalreporter) -> None:
    """How many tests were skipped, and why, on one line per reason."""
    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} test{'s' if count != 1 else ''} skipped: {reason}")


@functools.lru_cache(maxsize=1)
def _baseline_text_data() -> dict[str, Any]:
    # the members read in, so a copy written elsewhere (tmp_path) carries them inline
    data = yaml.load(BASELINE.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return attach_members(data, BASELINE)


def baseline_data() -> dict[str, Any]:
    """The shipped Gloucestershire config as plain data (a fresh copy each time)."""
    return copy.deepcopy(_baseline_text_data())


def legacy_data() -> dict[str, Any]:
    """The baseline as it was before trends, status-quo policies and ensembles (a fresh copy)."""
    return yaml.load(LEGACY.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def scaled_data(scale: float = 0.1, end_date: str = "2017-03-31", legacy: bool = False) -> dict[str, Any]:
    """The baseline (or, with ``legacy``, the baseline before trends, status-quo policies and
    ensembles) with every population and capacity scaled down and a shorter horizon."""
    data = legacy_data() if legacy else copy.deepcopy(baseline_data())
    data["simulation"]["end_date"] = end_date
    init = data["initial_population"]
    for key in ("sen_support_by_age", "ehcp_by_age_band"):
        init[key]["value"] = {k: int(round(v * scale)) for k, v in init[key]["value"].items()}
    for key in ("ap_pupils_without_plan", "ehe_without_plan"):
        init[key]["value"] = int(round(init[key]["value"] * scale))
    data["identification"]["new_per_year"]["value"] *= scale
    data["alternative_provision"]["direct_entries_per_year"]["value"] *= scale
    data["ehcp"]["move_in_per_year"]["value"] *= scale
    data["ehcp"]["post16_conversions_by_year"]["value"] = {k: v * scale for k, v in data["ehcp"]["post16_conversions_by_year"]["value"].items()}
    data["assessment"]["team_capacity"]["value"] = max(1, int(data["assessment"]["team_capacity"]["value"] * scale))
    data["capacity"]["places"]["value"] = {k: int(v * scale) for k, v in data["capacity"]["places"]["value"].items()}
    for expansion in data["capacity"]["expansions"]:
        expansion["places"] = int(expansion["places"] * scale)
    return data


def small_config(scale: float = 0.1, end_date: str = "2017-03-31") -> Config:
    """A validated small config (about a tenth of Gloucestershire, three years)."""
    return validate(scaled_data(scale, end_date), "small test config")


@pytest.fixture
def small() -> Config:
    return small_config()


@pytest.fixture(scope="session")
def baseline_config() -> Config:
    return validate(baseline_data(), str(BASELINE))
