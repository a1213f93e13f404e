"""Executing runs: in this process, over N local processes (one GPU each when there are several), or as SLURM
jobs through submitit, requeued after a preemption or a time-out and resumed from the run's checkpoint."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tinygrad_ift.backend import cuda_device_count
from tinygrad_ift.files import read_json

from . import cifar, inf8225, regression
from .store import RESULT_FILE, SETTINGS_FILE, RunBusyError, run_lock, save_result

EXECUTORS = {
    "cifar": cifar.execute_cifar,
    "gradient_flow": cifar.execute_gradient_flow,
    "regression": regression.execute_regression,
    "equivariance": regression.execute_equivariance,
    "logistic_regression": inf8225.execute_logistic,
    "manual_mlp": inf8225.execute_manual_mlp,
    "bayesnet": inf8225.execute_bayesnet,
}
LAUNCHERS = ("local", "slurm", "submitit_local")


class RunsFailedError(RuntimeError):
    """Some runs raised; the others ran to the end."""


@dataclass(frozen=True)
class SlurmOptions:
    """What a SLURM job asks for; `submitit_local` runs the same jobs as local processes (used by the tests)."""

    partition: str | None = None
    time_min: int = 240
    gpus_per_node: int = 0
    cpus_per_task: int = 2
    mem_gb: int = 16


def execute(run_dir: str | Path, device: str, data_dir: str | None) -> dict:
    """Run (or resume) the run whose settings.json is in run_dir; its result.json marks it finished.
    Raises RunBusyError when another process is running the same run."""
    run_dir = Path(run_dir)
    with run_lock(run_dir):
        if (run_dir / RESULT_FILE).is_file():  # finished meanwhile (a requeued job, or another process)
            return read_json(run_dir / RESULT_FILE)
        settings = read_json(run_dir / SETTINGS_FILE)
        result = EXECUTORS[settings["kind"]](settings, run_dir, device, data_dir)
        save_result(run_dir, result)
        return result


_worker_device: str = "cpu"


def _claim_device(devices) -> None:
    global _worker_device
    _worker_device = devices.get()


def _execute_in_worker(run_dir: str, data_dir: str | None) -> dict:
    return execute(run_dir, _worker_device, data_dir)


def worker_devices(device: str, jobs: int) -> list[str]:
    """One device per worker: 'cuda' spreads the workers over the visible GPUs, anything else is shared."""
    if device.strip().lower() != "cuda":
        return [device] * jobs
    count = max(cuda_device_count(), 1)
    return [f"cuda:{i % count}" for i in range(jobs)]


def run_local(run_dirs: list[Path], device: str, data_dir: str | None, jobs: int = 1) -> None:
    """Each run in turn in this process (jobs=1), or spread over `jobs` worker processes. A run that fails, or
    that another process is running, does not stop the others; they are all reported at the end."""
    if jobs == 1:
        outcomes = []
        for run_dir in run_dirs:
            try:
                execute(run_dir, device, data_dir)
                outcomes.append((run_dir, None))
            except Exception as err:
                outcomes.append((run_dir, err))
    else:
        context = multiprocessing.get_context("spawn")
        devices = context.Queue()
        for claimed in worker_devices(device, jobs):
            devices.put(claimed)
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_claim_device,
                                 initargs=(devices,)) as pool:
            futures = [pool.submit(_execute_in_worker, str(run_dir), data_dir) for run_dir in run_dirs]
            outcomes = [(run_dir, future.exception()) for run_dir, future in zip(run_dirs, futures)]
    report_outcomes(outcomes)


def report_outcomes(outcomes: list[tuple[Path, BaseException | None]]) -> None:
    """One line per run that did not finish here; RunsFailedError when there is any."""
    unfinished = [(run_dir, err) for run_dir, err in outcomes if err is not None]
    for run_dir, err in unfinished:
        if isinstance(err, RunBusyError):
            print(f"skipped: {err}")
        else:
            print(f"run {run_dir} failed: {type(err).__name__}: {err}")
    if unfinished:
        busy = sum(isinstance(err, RunBusyError) for _, err in unfinished)
        raise RunsFailedError(f"{len(unfinished) - busy} run(s) failed and {busy} run(s) are being run by "
                              "another process (one line each above)")


def resumable_run():
    """A submitit job that runs (or resumes) one run folder. On preemption or time-out submitit calls its
    checkpoint(), which requeues the same call; the run then continues from its last checkpoint."""
    import submitit

    class ResumableRun(submitit.helpers.Checkpointable):
        def __call__(self, run_dir: str, device: str, data_dir: str | None) -> dict:
            return execute(run_dir, device, data_dir)

    return ResumableRun()


def run_submitit(run_dirs: list[Path], device: str, data_dir: str | None, folder: Path, launcher: str,
                 options: SlurmOptions, jobs: int) -> list:
    """Submit one job per run (a job array) and wait for them; returns their results."""
    try:
        import submitit
    except ImportError:
        raise SystemExit("error: --launcher slurm needs submitit: pip install submitit") from None
    executor = submitit.AutoExecutor(folder=folder, cluster="local" if launcher == "submitit_local" else "slurm")
    parameters = {"timeout_min": options.time_min, "gpus_per_node": options.gpus_per_node,
                  "cpus_per_task": options.cpus_per_task, "mem_gb": options.mem_gb,
                  "name": "tinygrad_ift", "slurm_array_parallelism": jobs}
    if options.partition:
        parameters["slurm_partition"] = options.partition
    executor.update_parameters(**parameters)
    with executor.batch():
        submitted = [executor.submit(resumable_run(), str(run_dir), device, data_dir) for run_dir in run_dirs]
    for job, run_dir in zip(submitted, run_dirs):
        print(f"submitted {job.job_id}: {run_dir}")
    return [job.result() for job in submitted]
