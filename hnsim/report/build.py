"""Building a whole report from a results directory: figures, tables and the appendix documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hnsim.data.observed import load_observed
from hnsim.errors import InputError
from hnsim.plots import prepare
from hnsim.report import appendix, figures, render, tables
from hnsim.results import store
from hnsim.results.rundir import load

FORMATS = ("md", "html", "docx")


class ReportInputError(InputError, ValueError):
    """A report that cannot be made as asked (format, year); ``problems`` lists why, one per line."""

    separator = "; "


@dataclass
class Report:
    """What was written, relative to ``out_dir``."""

    out_dir: Path
    kind: str
    figures: list[figures.WrittenFigure]
    tables: dict[str, Path]
    documents: dict[str, Path] = field(default_factory=dict)


def key_years(run, year: str) -> list[str]:
    """The five financial years the key tables show: from the first year a scenario differs from the
    base (comparisons), else from ``year``."""
    start = prepare.first_divergent_year(run.annual, run.base) if len(run.scenarios) > 1 else None
    span = prepare.window(run.years, start or year)
    return span if len(span) == 5 or len(run.years) < 5 else run.years[-5:]


def build_report(run_dir: str | Path, out_dir: str | Path | None = None, formats: tuple[str, ...] = FORMATS, observed_dir: str | Path | None = None, year: str | None = None) -> Report:
    """Write figures, tables and the appendix for ``run_dir`` into ``out_dir`` (default ``run_dir/report``).

    Raises an :class:`~hnsim.errors.InputError` for bad input: ``RunDirectoryError`` (missing or
    unfinished directory), ``ReportInputError`` (unknown format, a year outside the run),
    ``DataError`` (observed series that do not follow docs/data.md), ``OutputError`` (``out_dir``
    cannot be written).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReportInputError([f"unknown format '{f}'; allowed: {', '.join(FORMATS)}" for f in unknown])
    run = load(run_dir)
    if not run.years:
        raise ReportInputError([f"{run.path}: no financial years to report"])
    if year is not None and year not in run.years:
        raise ReportInputError([f"--year {year}: not a financial year of the run ({run.years[0]} to {run.years[-1]})"])
    observed = load_observed(observed_dir) if observed_dir is not None else None
    out = store.writable_directory(Path(out_dir) if out_dir is not None else run.path / "report")
    year = year or figures.default_year(run)
    written = figures.write_figures(run, out, observed, year)
    if run.kind == "sweep":
        table_paths: dict[str, Path] = {}
        blocks = appendix.build(run, written, None, None, [])
    else:
        span = key_years(run, year)
        table_paths = tables.write_tables(run.annual, run.base, span, out, run.provenance())
        dsg = tables.dsg_plan(run.annual, run.base)
        summary = tables.scenario_summary_display(tables.scenario_summary(run.annual, run.base, span), run.base)
        blocks = appendix.build(run, written, dsg, summary, span)
    docs: dict[str, Path] = {}
    if "md" in formats:
        docs["md"] = store.write_text(render.to_markdown(blocks), out / "appendix.md")
    if "html" in formats:
        docs["html"] = store.write_text(render.to_html(blocks, out), out / "appendix.html")
    if "docx" in formats:
        docs["docx"] = render.write_docx(blocks, out, out / "appendix.docx")
    return Report(out, run.kind, written, table_paths, docs)
