"""`hnsim report`: figures, tables and the paper appendix from a run, comparison or sweep directory."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import fail_input, main, reported


@main.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--format", "formats", default=None, help="Documents to write, comma-separated: md, html, docx (default: all three; docx needs hnsim[report]).")
@click.option("--observed", "observed", type=click.Path(), default=None, help="Directory of observed series (docs/data.md) drawn on the fans (default: the data the config was fitted to, when found).")
@click.option("--year", default=None, help="First of the five key years (the medium-term financial plan) of every key table, figure and caption, like 2025-26 (default: the year the run finished in).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output directory (default: RUN_DIR/report).")
def report_command(run_dir: str, formats: str | None, observed: str | None, year: str | None, out: str | None) -> None:
    """Write forum-ready figures (PNG, SVG, CSV, captions), DSG-plan tables (CSV, Excel) and the appendix."""
    wanted = None if formats is None else tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if wanted is not None and not wanted:
        fail_input(["--format: give at least one of md, html, docx"])
    with reported():
        result = api.report(run_dir, out, wanted, observed, year)
    print_report(result)


def print_report(result) -> None:
    """What the report wrote, its key years and anything left out."""
    years = f", key years {result.key_years[0]} to {result.key_years[-1]}" if result.key_years else ""
    click.echo(f"wrote {result.out_dir} ({result.kind}): {len(result.figures)} figures, {len(result.tables)} tables, " + ", ".join(str(p.name) for p in result.documents.values()) + years)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
