"""The run store: one folder per run, named by a hash of everything that decides what the run computes.

    <results_dir>/runs/<kind>_<model>-<hash>/settings.json   the run's settings (written first)
                                             run_result.json written last, atomically: the run is finished
                                             ...             the run's own files (checkpoint, curves, figures)

A finished run with the same settings is reused; other settings give another folder, so a run is never
overwritten by a different one; an unfinished folder is resumed (CIFAR-10 runs continue from their last
epoch's checkpoint, shorter runs start again). Where a run executes (device, data folder) is not part of
its identity. A process runs a run only while it holds the run's lock (<run folder>/.lock): a second process
asking for the same run is refused (RunBusyError) instead of writing the same files at the same time.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tinygrad_ift.files import read_json, write_json

SETTINGS_FILE, RESULT_FILE, LOCK_FILE = "settings.json", "run_result.json", ".lock"


class RunBusyError(RuntimeError):
    """Another process is running this run now."""


def run_hash(settings: dict) -> str:
    """A short stable hash of the settings (keys sorted, so their order does not matter)."""
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Run:
    """One run of an experiment: a label for tables and legends, and the settings that define it."""

    experiment: str
    label: str
    settings: dict

    @property
    def folder_name(self) -> str:
        """<kind>_<model>-<hash>: experiments that list the same settings share the folder (and the run)."""
        what = [str(self.settings[k]) for k in ("kind", "model", "network", "optimizer") if k in self.settings]
        return f"{'_'.join(what)}-{run_hash(self.settings)}"

    def folder(self, results_dir: Path) -> Path:
        return Path(results_dir) / "runs" / self.folder_name


def is_finished(run_dir: Path) -> bool:
    return (run_dir / RESULT_FILE).is_file()


def prepare(run: Run, results_dir: Path) -> Path:
    """The run's folder, created with its settings.json; an existing folder must hold the same settings."""
    run_dir = run.folder(results_dir)
    saved = run_dir / SETTINGS_FILE
    if saved.is_file():
        if read_json(saved) != run.settings:
            raise RuntimeError(f"run store: {run_dir} holds a run with other settings than {run.settings}; "
                               "it is left untouched (move it away to run this one)")
    else:
        write_json(saved, run.settings)
    return run_dir


def load_result(run: Run, results_dir: Path) -> dict | None:
    """The finished run's result, or None when it has not finished."""
    path = run.folder(results_dir) / RESULT_FILE
    return read_json(path) if path.is_file() else None


def save_result(run_dir: Path, result: dict) -> None:
    write_json(run_dir / RESULT_FILE, result)


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock while the block runs, or raise RunBusyError at once when another process holds it.
    An advisory lock of the operating system (flock): it goes with the process, so a killed or preempted run
    leaves no stale lock behind."""
    with open(Path(run_dir) / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunBusyError(f"{run_dir} is being run by {holder}; not running it twice (run the same "
                               "command again when it has finished to reuse its result)") from None
        try:
            lock.truncate(0)
            lock.write(f"process {os.getpid()} on {socket.gethostname()}")
            lock.flush()
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
