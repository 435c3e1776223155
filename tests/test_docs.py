"""Documentation generated from code stays in step with it."""

from __future__ import annotations

import re

from hnsim.config.reference import reference
from hnsim.model.metrics import CALENDAR_YEAR_FLOWS, FLOWS, STOCKS

from conftest import ROOT


def test_config_reference_is_current():
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == reference(), "run: python -m hnsim.config.reference > docs/config.md"


def test_every_metric_is_documented():
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_]+)`", text))
    names = set(STOCKS) | set(FLOWS) | {f"{n}_calendar_year" for n in CALENDAR_YEAR_FLOWS}
    names |= {"pct_plans_within_20_weeks", "spend_total", "hnb_allocation", "in_year_balance", "cumulative_deficit"}
    missing = names - documented
    assert not missing, missing


def test_event_log_schema_is_documented():
    from hnsim.model.records import EVENT_NAMES, STATE_NAMES
    from hnsim.results.schemas import EVENT_COLUMNS, SPELL_COLUMNS

    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    missing = [name for name in [*STATE_NAMES.values(), *EVENT_NAMES.values(), *SPELL_COLUMNS, *EVENT_COLUMNS] if f"`{name}`" not in text]
    assert not missing, f"results/README.md does not describe {missing}"


def test_docs_link_only_to_files_that_ship():
    """Every relative link in the README and docs/ resolves inside the repository, and no shipped
    file cites a document that does not ship (a developer's notes, files beside the clone)."""
    documents = [ROOT / "README.md", ROOT / "experiments" / "README.md", ROOT / "results" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for doc in documents:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken
    cited = [ROOT / "configs", ROOT / "data", ROOT / "docs", ROOT / "README.md", ROOT / "hnsim" / "data" / "templates"]
    strays = []
    for place in cited:
        for path in ([place] if place.is_file() else [p for p in place.rglob("*") if p.suffix in (".yaml", ".csv", ".md")]):
            text = path.read_text(encoding="utf-8")
            for phrase in ("domain brief", "domain.md", "seed/high-needs", "../shared/"):
                if phrase in text:
                    strays.append(f"{path.relative_to(ROOT)}: {phrase}")
    assert not strays, strays
    assert (ROOT / "docs" / "sources.md").is_file()
