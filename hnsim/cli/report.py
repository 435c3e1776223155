"""`hnsim report`: figures, tables and the paper appendix from a run, comparison or sweep directory."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import fail_input, main, reported


@main.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--format", "formats", default="md,html,docx", show_default=True, help="Documents to write, comma-separated: md, html, docx.")
@click.option("--observed", "observed", type=click.Path(), default=None, help="Directory of observed series (docs/data.md) drawn on top of the fan charts.")
@click.option("--year", default=None, help="Financial year of the pathway flow diagram, like 2018-19 (default: the year the run finished in).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output directory (default: RUN_DIR/report).")
def report_command(run_dir: str, formats: str, observed: str | None, year: str | None, out: str | None) -> None:
    """Write forum-ready figures (PNG, SVG, CSV, captions), DSG-plan tables (CSV, Excel) and the appendix."""
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if not wanted:
        fail_input(["--format: give at least one of md, html, docx"])
    with reported():
        result = api.report(run_dir, out, wanted, observed, year)
    print_report(result)


def print_report(result) -> None:
    """What the report wrote."""
    click.echo(f"wrote {result.out_dir} ({result.kind}): {len(result.figures)} figures, {len(result.tables)} tables, " + ", ".join(str(p.name) for p in result.documents.values()))
