"""The course experiments from one command:

    python -m experiments list [--profile cpu]
    python -m experiments run NAME [NAME ...] | all [--profile smoke|cpu|full] [--device cpu|cuda|cuda:N]
                                                [--results_dir runs/experiments] [--jobs N]
                                                [--launcher local|slurm] [--partition P] [--time_min M] [--gpus_per_node G]
    python -m experiments report [--profile cpu] [--results_dir runs/experiments]

Profiles: smoke (seconds, synthetic data: what the tests run), cpu (subsets and fewer epochs, for 2 cores),
full (the course settings, for a GPU). Runs are stored under --results_dir by their settings: a finished run
is reused, an interrupted one resumes. The committed reference results (experiments/results/) are only
written when --results_dir names that folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygrad_ift.data.download import DataUnavailableError
from tinygrad_ift.training.cli import device_type, positive_int

from .catalog import EXPERIMENTS, PROFILE_NAMES
from .launch import LAUNCHERS, RunsFailedError, SlurmOptions, run_local, run_submitit
from .report import write_report
from .store import is_finished, prepare

DEFAULT_RESULTS = Path("runs") / "experiments"


def experiment_names(text: str) -> str:
    if text != "all" and text not in EXPERIMENTS:
        raise argparse.ArgumentTypeError(f"unknown experiment {text!r}; `python -m experiments list` shows them")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--profile", choices=PROFILE_NAMES, default="cpu", help="(default: %(default)s)")
        sub.add_argument("--results_dir", type=Path, default=DEFAULT_RESULTS, help="(default: %(default)s)")

    listing = commands.add_parser("list", help="the experiments and their runs")
    common(listing)
    run = commands.add_parser("run", help="run experiments (finished runs are reused)")
    run.add_argument("names", nargs="+", type=experiment_names, metavar="NAME", help="experiment names, or all")
    common(run)
    run.add_argument("--device", type=device_type, default="cpu", metavar="{cpu,cuda,cuda:N}",
                     help="with --jobs N and 'cuda', the workers spread over the visible GPUs")
    run.add_argument("--data_dir", default=None,
                     help="dataset folder (default: $TINYGRAD_IFT_DATA, ../shared/data, else downloaded)")
    run.add_argument("--jobs", type=positive_int, default=1, help="runs at a time (default: %(default)s)")
    run.add_argument("--launcher", choices=LAUNCHERS, default="local",
                     help="local processes, or SLURM jobs through submitit (submitit_local: submitit's local "
                          "executor, for testing) (default: %(default)s)")
    run.add_argument("--partition", default=None, help="SLURM partition")
    run.add_argument("--time_min", type=positive_int, default=240, help="SLURM time limit per job, minutes")
    run.add_argument("--gpus_per_node", type=int, choices=range(0, 17), default=0, metavar="G",
                     help="GPUs per SLURM job (0-16); with G > 0 the jobs train on cuda")
    run.add_argument("--cpus_per_task", type=positive_int, default=2)
    report = commands.add_parser("report", help="write REPORT.md from the finished runs")
    common(report)
    report.add_argument("names", nargs="*", type=experiment_names, metavar="NAME", help="(default: all)")
    return parser


def selected(names: list[str]) -> list[str]:
    return list(EXPERIMENTS) if not names or "all" in names else list(dict.fromkeys(names))


def list_experiments(profile: str, results_dir: Path) -> None:
    for name, experiment in EXPERIMENTS.items():
        runs = experiment.run_list(profile)
        done = sum(is_finished(run.folder(results_dir)) for run in runs)
        print(f"{name:26s} {experiment.group:10s} {done}/{len(runs)} runs finished  {experiment.title}")


def run_experiments(args: argparse.Namespace) -> None:
    runs = {}
    for name in selected(args.names):
        for run in EXPERIMENTS[name].run_list(args.profile):
            runs.setdefault(run.folder(args.results_dir), run)  # experiments share identical runs
    pending = []
    for folder, run in runs.items():
        if is_finished(folder):
            print(f"reused (finished earlier): {run.experiment}/{run.label}  {folder}")
        else:
            pending.append(prepare(run, args.results_dir))
    print(f"{len(runs) - len(pending)} runs reused, {len(pending)} to run")
    if args.launcher == "local":
        run_local(pending, args.device, args.data_dir, args.jobs)
    elif pending:
        device = "cuda" if args.gpus_per_node else args.device
        options = SlurmOptions(args.partition, args.time_min, args.gpus_per_node, args.cpus_per_task)
        run_submitit(pending, device, args.data_dir, args.results_dir / ".submitit", args.launcher, options,
                     args.jobs)
    print(f"done; write the report with: python -m experiments report --profile {args.profile} "
          f"--results_dir {args.results_dir}")


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            list_experiments(args.profile, args.results_dir)
        elif args.command == "run":
            run_experiments(args)
        else:
            print(f"wrote {write_report(args.results_dir, args.profile, selected(args.names))}")
    except (DataUnavailableError, FileNotFoundError, RunsFailedError) as err:
        sys.exit(f"error: {err}")
    except KeyboardInterrupt:
        sys.exit("interrupted: finished runs are kept; run the same command again to resume the others")


if __name__ == "__main__":
    main()
