"""What every part of a report shares: the key years, the scenarios' labels and styles, the base
config, the observed history, and the sentences every output carries (the data vantage, the
funding assumption, what the bands hold), all read from the results directory's manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hnsim.analysis.compare import key_years
from hnsim.config import outlook
from hnsim.data.observed import load_observed
from hnsim.plots import labels, style
from hnsim.results.rundir import RunData
from hnsim.results.schemas import fy_label, fy_start_year


def configs(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resolved config of every scenario a manifest records (a run's one, a comparison's all)."""
    if isinstance(manifest.get("configs"), dict):
        return dict(manifest["configs"])
    if isinstance(manifest.get("config"), dict):
        return {str(manifest.get("scenario") or manifest.get("base") or "baseline"): manifest["config"]}
    return {}


def base_config(manifest: dict[str, Any], base: str) -> dict[str, Any]:
    """The base scenario's resolved config ({} when the manifest holds none, as a sweep's)."""
    found = configs(manifest)
    if base in found:
        return found[base]
    if isinstance(manifest.get("config"), dict):
        return manifest["config"]
    return next(iter(found.values()), {})


def default_year(run: RunData) -> str:
    """The financial year the run finished in, if simulated, else the last simulated year."""
    stamp = str(run.manifest.get("finished_at") or "")[:10]
    if len(stamp) == 10:
        y, m = int(stamp[:4]), int(stamp[5:7])
        fy = fy_label(y if m >= 4 else y - 1)
        if fy in run.years:
            return fy
    return run.years[-1]


def find_data_dir(data_dir: str | None, run_path: Path) -> Path | None:
    """The config's observed-data directory (``calibration.fit.data_dir``, written relative to where
    calibrate ran): tried as given, then beside the results directory and one level further up."""
    if not data_dir:
        return None
    given = Path(data_dir)
    candidates = [given] if given.is_absolute() else [given, run_path.parent / given, run_path.parent.parent / given, run_path.parent.parent.parent / given]
    return next((c for c in candidates if c.is_dir() and any(c.glob("*.csv"))), None)


@dataclass
class ReportContext:
    """Everything the figures, tables and appendix of one report share."""

    run: RunData
    year: str
    years: list[str]
    observed: pd.DataFrame | None
    observed_from: str
    base_data: dict[str, Any]
    scenario_data: dict[str, dict[str, Any]]
    names: dict[str, str] = field(default_factory=dict)
    styles: dict[str, style.SeriesStyle] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.run.base

    @property
    def scenarios(self) -> list[str]:
        return self.run.scenarios

    @property
    def comparison(self) -> bool:
        return len(self.run.scenarios) > 1

    @property
    def replications(self) -> Any:
        return self.run.manifest.get("replications", "several")

    @property
    def data_end(self) -> str | None:
        """The financial year holding the last census fitted (the marked line on every time series)."""
        return self.run.manifest.get("data_end_year") or outlook.data_end_year(self.base_data)

    @property
    def vantage(self) -> str:
        return self.run.manifest.get("data_vantage") or outlook.data_vantage(self.base_data)

    @property
    def funding(self) -> str:
        return self.run.manifest.get("funding_assumption") or outlook.funding_assumption(self.base_data)

    @property
    def warnings(self) -> list[str]:
        found = self.run.manifest.get("warnings")
        return list(found) if isinstance(found, list) else outlook.readiness_warnings(self.base_data, self.base)

    def uncertainty(self, scenarios: list[str] | None = None) -> list[str]:
        """The uncertainty sources of the given scenarios' bands (all of them by default), from the manifest."""
        by = self.run.manifest.get("uncertainty_by_scenario")
        if not isinstance(by, dict):
            by = {name: outlook.uncertainty_sources(data) for name, data in self.scenario_data.items()}
        chosen = scenarios or self.scenarios
        found = [s for name in chosen for s in by.get(name, [])] or list(self.run.manifest.get("uncertainty") or ["replication noise"])
        return list(dict.fromkeys(found))

    def band(self, scenarios: list[str] | None = None) -> str:
        """What the bands of a figure of these scenarios hold, for its caption."""
        return (f"The line is the mean of {self.replications} replications; the darker band holds the middle 50% and the lighter band "
                f"the middle 90% of replications. " + outlook.band_sentence(self.uncertainty(scenarios)))

    @property
    def note(self) -> str:
        """The line every figure carries above its provenance: the data vantage and the funding."""
        end = self.data_end
        vantage = f"Data to January {fy_start_year(end) + 1} (fitted); later years are projections." if end else "Not fitted to data: every year is a projection."
        return f"{vantage} {self.funding}"

    @property
    def span(self) -> str:
        return f"{self.years[0]} to {self.years[-1]}"

    @property
    def end_date(self) -> str:
        """31 March of the key years' last financial year, in words."""
        return f"31 March {fy_start_year(self.years[-1]) + 1}"

    @property
    def end_census(self) -> str:
        return f"January {fy_start_year(self.years[-1]) + 1}"


def build_context(run: RunData, year: str | None, observed_dir: str | Path | None) -> ReportContext:
    """The context of a report on ``run``: key years from ``year`` (default the year the run finished
    in); observed series from ``observed_dir``, else from the data directory the config was fitted to."""
    year = year or default_year(run)
    scenario_data = configs(run.manifest)
    base_data = base_config(run.manifest, run.base)
    observed, observed_from = None, ""
    if observed_dir is not None:
        observed, observed_from = load_observed(observed_dir), str(observed_dir)
    else:
        fit = (base_data.get("calibration") or {}).get("fit") or {}
        found = find_data_dir(fit.get("data_dir"), run.path)
        if found is not None:
            observed, observed_from = load_observed(found), str(fit.get("data_dir"))
    names = {name: labels.scenario_label(name, scenario_data.get(name), base_data) for name in run.scenarios}
    years = key_years(run.years, year) if run.kind != "sweep" else []
    return ReportContext(run, year, years, observed, observed_from, base_data, scenario_data, names, style.scenario_styles(run.scenarios, run.base))
