"""Building a whole report from a results directory: figures, tables and the appendix documents."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from hnsim.errors import InputError
from hnsim.report import appendix, figures, render, tables
from hnsim.report.context import build_context
from hnsim.results import store
from hnsim.results.rundir import load

FORMATS = ("md", "html", "docx")
#: What a part of the report needs beyond the main install: (module, package, the extra that installs it).
NEEDS = {"docx": ("docx", "python-docx", "report"), "xlsx": ("openpyxl", "openpyxl", "")}


class ReportInputError(InputError, ValueError):
    """A report that cannot be made as asked (format, year); ``problems`` lists why, one per line."""

    separator = "; "


@dataclass
class Report:
    """What was written, relative to ``out_dir``; ``notes`` says what was left out and why."""

    out_dir: Path
    kind: str
    figures: list[figures.WrittenFigure]
    tables: dict[str, Path]
    documents: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    key_years: list[str] = field(default_factory=list)


def installed(part: str) -> bool:
    """Whether the package a report part needs (``docx``, ``xlsx``) can be imported."""
    return importlib.util.find_spec(NEEDS[part][0]) is not None


def default_formats() -> tuple[str, ...]:
    """The documents written when none are asked for: Markdown, HTML, and Word when python-docx is installed."""
    return tuple(f for f in FORMATS if f != "docx" or installed("docx"))


def _missing(part: str, asked: str) -> str:
    module, package, extra = NEEDS[part]
    how = f"pip install 'hnsim[{extra}]'" if extra else f"pip install {package}"
    return f"{asked} needs {package}, which is not installed: {how}"


def build_report(run_dir: str | Path, out_dir: str | Path | None = None, formats: tuple[str, ...] | None = None, observed_dir: str | Path | None = None,
                 year: str | None = None) -> Report:
    """Write figures, tables and the appendix for ``run_dir`` into ``out_dir`` (default ``run_dir/report``).

    ``year`` is the first of the key years (the medium-term financial plan: five financial years from
    it, fewer if the run ends sooner) used by every key table, key-year figure and caption, and the
    year of the pathway diagram; default the financial year the run finished in. ``formats`` default
    to :func:`default_formats`. Observed series come from ``observed_dir``, else from the data the
    config was fitted to (``calibration.fit.data_dir``) when it can be found.

    Everything is checked before anything is written. Raises an :class:`~hnsim.errors.InputError`
    for bad input: ``RunDirectoryError`` (missing or unfinished directory), ``ReportInputError``
    (unknown format, a format whose package is not installed, a year outside the run),
    ``DataError`` (observed series that do not follow docs/data.md), ``OutputError`` (``out_dir``
    cannot be written).
    """
    asked = formats is not None
    formats = tuple(formats) if asked else default_formats()
    problems = [f"unknown format '{f}'; allowed: {', '.join(FORMATS)}" for f in formats if f not in FORMATS]
    problems += [_missing("docx", "--format docx") for f in formats if f == "docx" and not installed("docx")]
    run = load(run_dir)
    if run.kind != "sweep" and not installed("xlsx"):
        problems.append(_missing("xlsx", "the DSG plan workbook (tables/dsg_plan.xlsx)"))
    if problems:
        raise ReportInputError(problems)
    if not run.years:
        raise ReportInputError([f"{run.path}: no financial years to report"])
    if year is not None and year not in run.years:
        raise ReportInputError([f"--year {year}: not a financial year of the run ({run.years[0]} to {run.years[-1]})"])
    ctx = build_context(run, year, observed_dir)
    notes = []
    if not asked and "docx" not in formats:
        notes.append(f"appendix.docx not written: {_missing('docx', 'Word output')}")
    if run.kind != "sweep" and len(ctx.years) < 5:
        notes.append(f"only {len(ctx.years)} key years from {ctx.year}: the run ends in {run.years[-1]}")
    out = store.writable_directory(Path(out_dir) if out_dir is not None else run.path / "report")
    written = figures.write_figures(ctx, out)
    if run.kind == "sweep":
        table_paths: dict[str, Path] = {}
        blocks = appendix.build(ctx, written, None)
    else:
        built = tables.build_tables(ctx)
        table_paths = tables.write_tables(built, ctx, out)
        blocks = appendix.build(ctx, written, built)
    docs: dict[str, Path] = {}
    if "md" in formats:
        docs["md"] = store.write_text(render.to_markdown(blocks), out / "appendix.md")
    if "html" in formats:
        docs["html"] = store.write_text(render.to_html(blocks, out), out / "appendix.html")
    if "docx" in formats:
        docs["docx"] = render.write_docx(blocks, out, out / "appendix.docx")
    return Report(out, run.kind, written, table_paths, docs, notes, ctx.years)
