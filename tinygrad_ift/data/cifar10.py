"""CIFAR-10 in any of its common forms, detected from a folder: official pickles, .npz, image folders, .tar.gz."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .download import download as fetch
from .images import read_image_folder, read_image_tar
from .paths import read_npz, resolve

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
PICKLE_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
SHARED_TEST, SHARED_TRAIN = "cifar10-test.npz", "cifar10-train-jpeg.tar.gz"
ACCEPTED = ("cifar-10-batches-py/ (data_batch_1..5, test_batch) or those files in the folder itself; cifar10.npz "
            "or cifar-10.npz (x_train, y_train, x_test, y_test); train/ and test/ image-folder trees "
            f"(<split>/<class>/*.jpg|png); {SHARED_TEST} with {SHARED_TRAIN} (or an extracted train/). The path "
            "may also be any one of these files, or any .npz with those keys")


def _check(split: dict, source: str) -> dict:
    """Shapes checked, images as uint8 and labels as int64."""
    for part in ("train", "test"):
        x, y = split.get(f"x_{part}"), split.get(f"y_{part}")
        if x is None:
            continue
        if x.ndim != 4 or x.shape[1:] != (32, 32, 3) or y is None or y.shape != (len(x),):
            raise ValueError(f"CIFAR-10 {source}: expected x_{part} images (N, 32, 32, 3) and y_{part} labels "
                             f"(N,), got {x.shape} and {None if y is None else y.shape}")
        split[f"x_{part}"], split[f"y_{part}"] = x.astype(np.uint8, copy=False), y.astype(np.int64, copy=False)
    return split


def _from_pickles(folder: Path) -> dict:
    def read(name: str):
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"CIFAR-10: {path} is missing (expected data_batch_1..5 and test_batch)")
        try:
            with open(path, "rb") as f:
                batch = pickle.load(f, encoding="bytes")
            data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            return data, np.asarray(batch[b"labels"], dtype=np.int64)
        except (pickle.UnpicklingError, KeyError, ValueError, EOFError) as err:
            raise ValueError(f"CIFAR-10: {path} is not a CIFAR-10 pickle batch, or is damaged ({err}); "
                             "fetch it again") from err
    *train, (x_test, y_test) = [read(name) for name in PICKLE_FILES]
    return {"x_train": np.concatenate([x for x, _ in train]), "y_train": np.concatenate([y for _, y in train]),
            "x_test": x_test, "y_test": y_test}


def _from_npz(path: Path) -> dict:
    data = read_npz(path, "CIFAR-10")
    out = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test") if k in data}
    if "x_test" not in out and "x_train" not in out:
        raise ValueError(f"CIFAR-10: {path} has none of the keys x_train/y_train/x_test/y_test")
    return out


def _tree(split: dict, prefix: str) -> dict:
    return {f"x_{prefix}": split["x"], f"y_{prefix}": split["y"]}


def _classes_for(folder: Path) -> list[str] | None:
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    return CLASSES if set(names) <= set(CLASSES) else None


def load_cifar10(data_dir: "str | Path | None" = None, download: bool = False) -> dict:
    """dict(x_train, y_train, x_test, y_test): uint8 (N, 32, 32, 3) HWC RGB images and int64 labels.

    `data_dir` (default: see `default_data_dir`) may be an .npz file (x_train/y_train/x_test/y_test, or the
    test pair alone) or a folder holding, checked in this order: `cifar-10-batches-py/` (or being it);
    cifar10.npz; `train/` and `test/` image-folder trees (`<split>/<class>/*.png|jpg`); or the shared
    layout `cifar10-test.npz` with `cifar10-train-jpeg.tar.gz` (or an extracted `train/`). One of the folder's
    files (a pickle batch, the .tar.gz) stands for its folder. Image files are decoded once and cached.
    download=True fetches the official pickles into that folder first.
    """
    root = fetch("cifar10", resolve(data_dir)) if download else resolve(data_dir)
    if root.is_file() and root.suffix == ".npz":
        return _check(_from_npz(root), str(root))
    if root.is_file() and root.name in (*PICKLE_FILES, SHARED_TRAIN):
        root = root.parent
    elif root.is_file():
        raise FileNotFoundError(f"CIFAR-10: {root} is not a CIFAR-10 file. Accepted: {ACCEPTED}")
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10: {root} does not exist")
    for folder in (root / "cifar-10-batches-py", root):
        if (folder / "data_batch_1").exists():
            return _check(_from_pickles(folder), str(folder))
    for name in ("cifar10.npz", "cifar-10.npz"):
        if (root / name).exists():
            return _check(_from_npz(root / name), str(root / name))
    if (root / "train").is_dir() and (root / "test").is_dir():
        return _check({**_tree(read_image_folder(root / "train", _classes_for(root / "train")), "train"),
                       **_tree(read_image_folder(root / "test", _classes_for(root / "test")), "test")}, str(root))
    test_npz, train_tar = root / SHARED_TEST, root / SHARED_TRAIN
    if test_npz.exists() and (train_tar.exists() or (root / "train").is_dir()):
        test = _from_npz(test_npz)
        train = (read_image_folder(root / "train", CLASSES) if (root / "train").is_dir()
                 else read_image_tar(train_tar, "train", CLASSES))
        return _check({**_tree(train, "train"), "x_test": test["x_test"], "y_test": test["y_test"]}, str(root))
    raise FileNotFoundError(f"CIFAR-10: found no dataset in {root}. Accepted: {ACCEPTED}. Put one of them there, "
                            "or pass download=True to fetch the official files")
