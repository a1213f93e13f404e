"""The training loop: epochs of minibatch steps, validation after each, a checkpoint after each, test at the end."""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm.auto import tqdm

from .. import backend
from .. import random as tg_random
from ..backend import Device, get_array_module
from ..grad_mode import no_grad
from ..nn import Module
from ..nn import functional as F
from .builders import build_model, build_optimizer, model_settings
from .checkpoint import CHECKPOINT_FILE, Progress, read_checkpoint, restore, save_checkpoint
from .datasets import DataSplits
from .plots import CURVE_FILES, plot_curves
from .results import RESULTS_FILE, build_results, write_results

# Flags a resumed run may change: they do not alter what is computed (only how long, how verbosely). Not the
# device: CuPy's random streams differ from NumPy's, so a run moved to another device would not repeat itself.
RUN_FILES = (RESULTS_FILE, CHECKPOINT_FILE, *CURVE_FILES.values())  # what a run writes to its logdir
RESUMABLE_CHANGES = frozenset({"epochs", "resume", "overwrite", "print_every", "visualize", "data_dir", "logdir"})


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


class ResumeMismatchError(ValueError):
    """The checkpoint to resume from was written by a run with different settings, or has more epochs."""


class ModelConfigError(ValueError):
    """The model's settings (config['model_config']) are not ones its constructor accepts."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C: the finished epochs' results are written; the message says where and how to resume."""


class Meter:
    """Running mean loss and accuracy over the images seen so far, summed where the logits live.

    `update` only adds on the device; `read` brings the sums to the host in one transfer (on a GPU, the one
    sync of a step that reads), so a training step syncs only when it reports. It also remembers the first
    step whose loss was not finite, so the check costs no sync either.
    """

    def __init__(self):
        self.count, self.loss, self.accuracy = 0, 0.0, 0.0
        self._sums = None  # (sum of loss * batch size, correct predictions, first non-finite step or 0)
        self._read_at, self._first_bad = 0, 0  # the count at the last read, and what that read found

    def update(self, loss, logits, labels, step: int = 0) -> None:
        xp = get_array_module(logits.data)
        n = labels.shape[0]
        sums = xp.stack([(loss.data * n).astype(np.float64),
                         (xp.argmax(logits.data, axis=1) == labels.data).sum().astype(np.float64),
                         xp.where(xp.isfinite(loss.data), 0.0, float(step))])
        if self._sums is None:
            self._sums = sums
        else:  # keep the first bad step: the sum of two steps' numbers would name neither
            first_bad = xp.where(self._sums[2] > 0, self._sums[2], sums[2])
            self._sums = xp.stack([self._sums[0] + sums[0], self._sums[1] + sums[1], first_bad])
        self.count += n

    def read(self) -> int:
        """Update `loss` and `accuracy` from the device; returns the first step whose loss was not finite, or 0."""
        if self._sums is not None and self._read_at != self.count:
            loss_sum, correct, first_bad = backend.to_numpy(self._sums)
            self.loss, self.accuracy = float(loss_sum) / self.count, float(correct) / self.count
            self._read_at, self._first_bad = self.count, int(first_bad)
        return self._first_bad


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C until the block has run, then raise it: an epoch's history and its checkpoint change
    together, so the results written on Ctrl-C never list an epoch that the checkpoint lacks."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # only the main thread receives signals; a process started to ignore Ctrl-C (nohup ... &) goes on
        return
    held = []
    previous = signal.signal(signal.SIGINT, lambda *_: held.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


def _progress_bar(loader, description: str, leave: bool):
    """A tqdm bar, built with Ctrl-C held: a Ctrl-C inside tqdm's constructor leaves a half-built bar, whose
    clean-up then prints a traceback under the "interrupted" message."""
    with ctrl_c_held():
        return tqdm(loader, desc=description, leave=leave, unit="batch", dynamic_ncols=True)


class Trainer:
    """Holds one run: its model, optimiser, data and progress, and writes its files to `config['logdir']`."""

    def __init__(self, config: dict, data: DataSplits):
        self.config, self.data = config, data
        self.device = Device(config["device"])
        self.logdir = Path(config["logdir"])
        self.checkpoint_path = self.logdir / CHECKPOINT_FILE
        tg_random.manual_seed(config["seed"])
        try:
            self.model: Module = build_model(config, data).to(self.device)
        except (TypeError, ValueError) as err:  # e.g. an MLP-Mixer patch size that does not divide the image
            raise ModelConfigError(f"{config['model_config']}: {err}") from err
        self.optimizer = build_optimizer(config, list(self.model.parameters()))
        self.progress = Progress(config=config)

    @property
    def n_parameters(self) -> int:
        return sum(p.size for p in self.model.parameters())

    def resume(self) -> None:
        """Continue from the checkpoint in the logdir, if there is one, after checking it is the same run."""
        if not self.checkpoint_path.exists():
            print(f"no checkpoint at {self.checkpoint_path}: starting from scratch")
            return
        contents = read_checkpoint(self.checkpoint_path)
        saved = contents["progress"]["config"]
        changed = {key: (saved.get(key), value) for key, value in self.config.items()
                   if key not in RESUMABLE_CHANGES and saved.get(key) != value}
        if changed:
            raise ResumeMismatchError(
                f"the checkpoint {self.checkpoint_path} was written with different settings "
                f"(flag: (checkpoint, now)): {changed}")
        finished = contents["progress"]["epoch"]
        if finished > self.config["epochs"]:
            raise ResumeMismatchError(
                f"the checkpoint {self.checkpoint_path} holds {finished} finished epochs, more than --epochs "
                f"{self.config['epochs']}; pass --epochs {finished} or more to continue it")
        progress = restore(contents, self.model, self.optimizer)
        self.data.train_loader.seed = progress.loader_state["seed"]
        self.data.train_loader.epoch = progress.loader_state["epoch"]
        self.progress = Progress(progress.epoch, progress.history, progress.loader_state, self.config)
        print(f"resuming from {self.checkpoint_path} after epoch {progress.epoch}")

    def discard_previous_run(self) -> None:
        """--overwrite: delete an earlier run's files from the logdir, so that it never mixes two runs."""
        for name in RUN_FILES:
            (self.logdir / name).unlink(missing_ok=True)

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        """One pass over the training split; returns its mean loss and accuracy."""
        self.model.train()
        meter, start = Meter(), time.perf_counter()
        print_every = self.config["print_every"]
        read_every = print_every or (1 if self.device.type == "cpu" else 0)  # on a GPU a read is a sync
        bar = _progress_bar(self.data.train_loader, f"epoch {epoch}/{self.config['epochs']}", leave=False)
        steps = len(self.data.train_loader)
        for step, (images, labels) in enumerate(bar, start=1):
            with tg_random.derived_streams(epoch, step):  # dropout's draws: the same again on --resume
                logits = self.model(images)
                loss = F.cross_entropy(logits, labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            meter.update(loss.detach(), logits.detach(), labels, step)
            if (read_every and step % read_every == 0) or step == steps:
                first_bad = meter.read()
                if first_bad:
                    bar.close()
                    raise NonFiniteLossError(self._stop_message(epoch, first_bad))
                speed = meter.count / (time.perf_counter() - start)
                bar.set_postfix(loss=f"{meter.loss:.4f}", acc=f"{meter.accuracy:.4f}", img_s=f"{speed:.0f}",
                                refresh=False)
                if print_every and step % print_every == 0:
                    bar.write(f"epoch {epoch} step {step}: loss {meter.loss:.4f}  accuracy {meter.accuracy:.4f}  "
                              f"{speed:.0f} images/s")
        bar.close()
        meter.read()
        return meter.loss, meter.accuracy

    def _stop_message(self, epoch: int, step: int) -> str:
        kept = (f"the last good checkpoint (after epoch {self.progress.epoch}) is kept at {self.checkpoint_path}"
                if self.progress.epoch else "no epoch had finished, so there is no checkpoint")
        return (f"the training loss became nan or infinite at epoch {epoch}, step {step}; stopping "
                f"(try a smaller --lr). {kept}")

    def evaluate(self, loader, description: str) -> tuple[float, float]:
        """Mean loss and accuracy over a whole split, in eval mode and without building graphs."""
        self.model.eval()
        meter = Meter()
        with no_grad():
            for images, labels in _progress_bar(loader, description, leave=False):
                logits = self.model(images)
                meter.update(F.cross_entropy(logits, labels), logits, labels)
        meter.read()
        return meter.loss, meter.accuracy

    def fit(self) -> dict:
        """Train the remaining epochs, then test; writes checkpoint, results.json and plots; returns the results.

        Ctrl-C stops the run: the finished epochs' results and plots are written, then TrainingInterrupted
        says where they are and how to resume.
        """
        try:
            for epoch in range(self.progress.epoch + 1, self.config["epochs"] + 1):
                self.run_epoch(epoch)
            test_loss, test_acc = self.evaluate(self.data.test_loader, "test")
        except KeyboardInterrupt:
            if self.progress.epoch:
                self.write_results(None, None)
            raise TrainingInterrupted(self._interrupted_message()) from None
        print(f"test loss {test_loss:.4f}  test accuracy {test_acc:.4f}")
        results = self.write_results(test_loss, test_acc)
        if self.config["visualize"]:
            self.model.visualize(self.logdir)
        return results

    def run_epoch(self, epoch: int) -> None:
        """Train one epoch, validate, record it in the history and write the checkpoint."""
        start = time.perf_counter()
        train_loss, train_acc = self.train_epoch(epoch)
        valid_loss, valid_acc = self.evaluate(self.data.valid_loader, "validation")
        history = self.progress.history
        with ctrl_c_held():
            history.record(train_loss, train_acc, valid_loss, valid_acc, time.perf_counter() - start)
            self.progress.epoch = epoch
            self.progress.loader_state = {"seed": self.data.train_loader.seed,
                                          "epoch": self.data.train_loader.epoch}
            save_checkpoint(self.checkpoint_path, self.model, self.optimizer, self.progress)
        print(f"epoch {epoch}/{self.config['epochs']}: train loss {train_loss:.4f} acc {train_acc:.4f} | "
              f"valid loss {valid_loss:.4f} acc {valid_acc:.4f} | {history.epoch_times[-1]:.1f} s")

    def write_results(self, test_loss: float | None, test_acc: float | None) -> dict:
        """results.json and the loss/accuracy plots of the epochs finished so far (no test metrics: None)."""
        results = build_results(self.progress.history, test_loss, test_acc, self.n_parameters,
                                self._described_config(), self.device)
        print(f"results: {write_results(self.logdir, results)}")
        plot_curves(results, self.logdir)
        return results

    def _interrupted_message(self) -> str:
        done = self.progress.epoch
        if not done:
            return "interrupted before the first epoch finished; nothing was written"
        remaining = (f"rerun the same command with --resume to continue from epoch {done + 1}"
                     if done < self.config["epochs"] else "rerun the same command with --resume to test the model")
        return (f"interrupted after {done} finished epoch{'s' * (done != 1)}: the results and plots so far are in "
                f"{self.logdir}, the checkpoint in {self.checkpoint_path}; {remaining}")

    def _described_config(self) -> dict:
        """The run's flags plus the model's constructor keywords."""
        return {**self.config, "model_settings": model_settings(self.config, self.data)}


def train(config: dict, data: DataSplits) -> dict:
    """Run (or, with config['resume'], continue) one training run; returns what results.json holds.
    With config['overwrite'], an earlier run's files in the logdir are deleted first."""
    trainer = Trainer(config, data)
    if config["resume"]:
        trainer.resume()
    elif config["overwrite"]:
        trainer.discard_previous_run()
    return trainer.fit()
