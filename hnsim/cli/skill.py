"""`hnsim skill`: rolling-origin forecast skill of local authorities against naive forecasters."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim import api
from hnsim.cli.common import EXIT_FAILED, main, reported, workers_option


def echo_headline(result: api.SkillResult, out_dir: Path) -> None:
    """The model against the best naive forecaster, all series pooled, and where the tables are."""
    summary = result.summary
    if summary is None or summary.empty:
        click.echo("no value to score (no published value after the origins)", err=True)
        return
    model = summary[(summary["forecaster"] == "hnsim") & (summary["series"] == "all")]
    for r in model.itertuples(index=False):
        best = summary[(summary["series"] == "all") & (summary["horizon"] == r.horizon) & (summary["forecaster"] == r.best_naive_pct)]
        click.echo(f"  horizon {r.horizon}: hnsim mean APE {r.mean_ape:.1f}% (best naive, {r.best_naive_pct}: {best['mean_ape'].iloc[0]:.1f}%); "
                   f"CRPS skill {r.crps_pct_skill:+.2f} (% of observed), {r.crps_skill:+.2f} (plans); inside 50% / 90%: {100 * r.coverage_50:.0f}% / {100 * r.coverage_90:.0f}%")
    figures = f", figures in {out_dir / 'figures'}" if (out_dir / "figures").is_dir() else ""
    click.echo(f"  tables: {out_dir / 'skill.parquet'}, {out_dir / 'skill_summary.csv'}{figures}")


@main.command("skill")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--la", "las", multiple=True, help="Only this authority (name, new or old code); repeat for several. Default: every authority (or the quick sample).")
@click.option("--quick", is_flag=True, help="The quick sample: 20 authorities spread by size and region (docs/validation.md).")
@click.option("--origins", default="2016,2017,2018", show_default=True, help="Forecast origins: January census years, comma-separated.")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True, help="Replications of each calibrated config (the model's ensemble).")
@click.option("--max-evaluations", type=click.IntRange(min=1), default=72, show_default=True, help="Parameter sets each calibration may simulate (history matching: split across its waves).")
@click.option("--fit-replications", type=click.IntRange(min=1), default=2, show_default=True, help="Replications per calibration evaluation.")
@click.option("--naive-draws", type=click.IntRange(min=2), default=200, show_default=True, help="Draws of each naive forecaster's predictive distribution.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/skill, or results/skill-quick).")
@workers_option("Local processes, or local Dask workers (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask]).")
@click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes.")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def skill_command(data_dir: str, las: tuple[str, ...], quick: bool, origins: str, replications: int, max_evaluations: int, fit_replications: int,
                  naive_draws: int, out: str | None, workers: int | None, scheduler: str | None, local_dask: bool, no_figures: bool, quiet: bool) -> None:
    """Calibrate every authority (or --la ones, or --quick) on the data known at each forecast
    origin, project it, and score it and four naive forecasters on the values published later.
    Rerun the same command to finish an interrupted run."""
    out_dir = Path(out) if out else Path("results") / ("skill-quick" if quick and not las else "skill")
    with reported(f"interrupted: the tasks written are kept in {out_dir}; rerun the same command to finish"):
        design = api.SkillDesign(Path(data_dir), api.origins(origins), replications, fit_replications, max_evaluations, naive_draws)
        result = api.skill(design, out_dir, list(las) or None, quick, workers or api.default_workers(), scheduler, local_dask,
                           progress=not quiet, figures=not no_figures)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['tasks_done']} of {m['tasks']} tasks (authority x origin), origins {', '.join(map(str, m['origins']))}, "
               f"{m['replications']} replications each, {m['executor']}, {m['wall_seconds']} s (CPU in tasks {m['task_cpu_seconds']} s)")
    echo_headline(result, out_dir)
    if len(result.failures):
        click.echo(f"failed tasks ({len(result.failures)}, errors in {out_dir / 'failures.csv'}):", err=True)
        for row in result.failures.itertuples(index=False):
            click.echo(f"  {row.key} ({row.authority}), {row.stage}: {row.error}", err=True)
        sys.exit(EXIT_FAILED)
