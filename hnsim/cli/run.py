"""`hnsim check`, `hnsim run` and `hnsim recost`."""

from __future__ import annotations

from pathlib import Path

import click

from hnsim import api
from hnsim.cli.common import main, reported, warn, workers_option


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
def check(config: str, overlays: tuple[str, ...]) -> None:
    """Validate CONFIG without running it."""
    with reported():
        cfg = api.load_config(config, overlays)
        switched = api.scenario_levers(config, overlays) if overlays else []
    sim = cfg.simulation
    click.echo(f"ok: {config}: {cfg.meta.name}, {sim.start_date} to {sim.end_date}, seed {sim.seed}")
    if overlays:
        click.echo(f"levers switched on by {', '.join(overlays)}: " + ("none" if not switched else ""))
        for name, label, description in switched:
            click.echo(f"  {name} ({label}): {description}")


@main.command("schema")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the schema to this file (default: print it).")
@click.option("--overlay", is_flag=True, help="The schema of a scenario overlay (the same keys, none required).")
def schema_command(out: str | None, overlay: bool) -> None:
    """Write the config's JSON Schema, for completion and checking in an editor (docs/config.md)."""
    import json

    with reported():
        schema = api.config_schema(out, overlay)
    if out is None:
        click.echo(json.dumps(schema, indent=2))
    else:
        click.echo(f"wrote {out}: name it in a config's first line: # yaml-language-server: $schema={out}")


@main.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=1), default=None, help="Replications (default: the config's).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the config's).")
@workers_option()
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run directory (default: results/<config name>).")
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--until-half-width", "until", default=None, metavar="METRIC:YEAR:HALFWIDTH", help="Add replications until the 95% interval of METRIC in YEAR is this narrow (-n is the first batch).")
@click.option("--max-replications", type=click.IntRange(min=2), default=100, show_default=True, help="Cap for --until-half-width.")
@click.option("--keep-log", is_flag=True, help="Also write every child's spells and events (spells.parquet, events.parquet), for following children and hnsim recost.")
def run_command(config: str, replications: int | None, seed: int | None, workers: int | None, out: str | None, overlays: tuple[str, ...], quiet: bool,
                until: str | None, max_replications: int, keep_log: bool) -> None:
    """Run replications of CONFIG and write manifest.json, annual.parquet and summary.csv."""
    out_dir = Path(out) if out else api.default_run_dir(config, overlays)
    with reported("interrupted: the run directory is marked 'interrupted'"):
        precision = api.precision(until, api.load_config(config, overlays), max_replications) if until else None
        result = api.run(config, overlays, replications, seed, workers or api.default_workers(), out_dir, progress=not quiet,
                         precision=precision, keep_log=keep_log)
    print_run(result)


def print_run(result: api.RunResult) -> None:
    """Where the run went, and a few headline numbers so the terminal shows the answer."""
    m = result.manifest
    click.echo(f"wrote {result.out_dir}: {m['replications']} replications, seed {m['seed']}, {m['wall_seconds']} s, {m['sim_events']:,} simulation events"
               + (", spells.parquet and events.parquet" if m.get("event_log") else ""))
    for line in (m.get("data_vantage"), m.get("funding_assumption")):
        if line:
            click.echo(line)
    warn(list(m.get("warnings") or []))
    if m.get("precision"):
        p = m["precision"]
        click.echo(f"{p['metric']} in {p['financial_year']}: 95% half-width {p['achieved_half_width']:,.6g} "
                   f"({'met' if p['met'] else 'NOT met, cap reached'}; target {p['target_half_width']:,.6g})")
    print_headline(result.summary)


def print_headline(summary) -> None:
    """EHCPs, spend, allocation and the deficit in a few years."""
    wanted = ["ehcp_total", "spend_total", "hnb_allocation", "cumulative_deficit"]
    table = summary[summary["metric"].isin(wanted)].pivot_table(index="financial_year", columns="metric", values="mean")
    if table.empty:
        return
    years = [y for y in table.index if y.endswith(("-15", "-19", "-25", "-30", "-35"))]
    click.echo("means of replications (the line the report's fans draw):")
    click.echo(f"{'year':>8} {'EHCPs':>8} {'spend':>10} {'allocation':>11} {'deficit':>10}")
    for year in years:
        row = table.loc[year]
        click.echo(f"{year:>8} {row['ehcp_total']:>8,.0f} {api.money_text(row['spend_total']):>10} {api.money_text(row['hnb_allocation']):>11} "
                   f"{api.money_text(row['cumulative_deficit']):>10}")


@main.command("recost")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--config", "config", required=True, type=click.Path(dir_okay=False), help="Config with the new unit costs (only costs and finance may differ from the run's).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: RUN_DIR-recost-<config name>).")
def recost_command(run_dir: str, config: str, out: str | None) -> None:
    """Re-cost RUN_DIR (made with --keep-log) with the costs and finance of --config, without re-simulating."""
    with reported():
        result = api.recost(run_dir, config, out)
    click.echo(f"wrote {result.out_dir}: {result.manifest['replications']} replications of {run_dir} re-costed with {config}")
    print_headline(result.summary)
