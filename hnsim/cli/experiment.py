"""`hnsim experiment`: run a question of the strategy defined in ``experiments/``."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import main, reported, workers_option
from hnsim.cli.compare import print_comparison
from hnsim.cli.report import print_report
from hnsim.cli.run import print_run
from hnsim.cli.sweep import print_evaluation, print_seek, print_sweep


@main.command("experiment")
@click.argument("experiment_file", type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=1), default=None, help="Override the experiment's replications.")
@workers_option()
@click.option("--quiet", is_flag=True, help="No progress bar.")
def experiment_command(experiment_file: str, replications: int | None, workers: int | None, quiet: bool) -> None:
    """Run EXPERIMENT_FILE (a question, and the run, comparison, sweep or goal-seek that answers it)."""
    with reported():
        experiment, _ = api.load_experiment(experiment_file)
    click.echo(f"question: {experiment.question}")
    with reported("interrupted: what was written so far is kept and marked in the output directory"):
        done = api.run_experiment(experiment_file, replications, workers or api.default_workers(), progress=not quiet,
                                  on_evaluation=lambda e: print_evaluation(experiment.seek.parameter, e, experiment.seek.metric))
    printer = {"run": print_run, "compare": lambda r: print_comparison(r, experiment.year), "sweep": print_sweep, "seek": print_seek}[experiment.kind]
    printer(done.result)  # exits 1 for a sweep with failed points, 3 for a target met nowhere
    if done.report is not None:
        print_report(done.report)
