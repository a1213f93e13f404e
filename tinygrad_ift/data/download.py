"""Downloads of the course datasets from their official sources (no torchvision), into a cache folder.

Each file is fetched with a progress bar into a temporary file, checked against the MD5 the source publishes,
and only then renamed into place; an archive is unpacked once. Offline, the error says how to give the data
by hand (--data_dir, or $TINYGRAD_IFT_DATA).

    download("cifar10", root)     -> root/cifar-10-batches-py   (what load_cifar10 reads)
    download_dir("fashion_mnist") -> the cache folder, downloaded there on first use
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_open

CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """One file: where it is published (mirrors tried in order), its MD5, and whether it is a tar to unpack."""

    name: str
    urls: tuple[str, ...]
    md5: str
    unpack: bool = False


def _idx_files(bases: tuple[str, ...], md5s: dict[str, str]) -> tuple[Source, ...]:
    return tuple(Source(name, tuple(base + name for base in bases), md5) for name, md5 in md5s.items())


MNIST_BASES = ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
FASHION_BASES = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
SOURCES: dict[str, tuple[Source, ...]] = {
    "cifar10": (Source("cifar-10-python.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                       "c58f30108f718f92721af3b95e74349a", unpack=True),),
    "mnist": _idx_files(MNIST_BASES, {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                                      "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                                      "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                                      "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}),
    "fashion_mnist": _idx_files(FASHION_BASES, {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                                "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                                                "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                                                "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}),
    "svhn": (Source("train_32x32.mat", ("http://ufldl.stanford.edu/housenumbers/train_32x32.mat",),
                    "e26dedcc434d2e4c54c9b2d4a06d8373"),
             Source("test_32x32.mat", ("http://ufldl.stanford.edu/housenumbers/test_32x32.mat",),
                    "eb5a983be6a315427106f1b6ee8a2fba")),
}
UNPACKED = {"cifar10": "cifar-10-batches-py"}  # the folder an archive unpacks to, which the loader reads


class DataUnavailableError(RuntimeError):
    """A dataset is neither on disk nor downloadable (offline, or a source failed its checksum)."""


def cache_root() -> Path:
    """$TINYGRAD_IFT_DOWNLOADS, else ~/.cache/tinygrad_ift/datasets."""
    return Path(os.environ.get("TINYGRAD_IFT_DOWNLOADS", Path.home() / ".cache" / "tinygrad_ift" / "datasets"))


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, description: str):
    """A tqdm bar when tqdm is installed, else nothing (the download still prints its start and end)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=description, file=sys.stderr)


def _fetch(url: str, target: Path, source: Source) -> None:
    """Stream `url` into a temporary file, checking the MD5 before it replaces `target`."""
    digest = hashlib.md5()
    with urllib.request.urlopen(url, timeout=60) as response:
        total = response.headers.get("Content-Length")
        bar = _progress(int(total) if total else None, source.name)
        try:
            with atomic_open(target, "wb") as out:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    if bar is not None:
                        bar.update(len(block))
                if digest.hexdigest() != source.md5:
                    raise DataUnavailableError(f"download: {url} has MD5 {digest.hexdigest()}, expected "
                                               f"{source.md5} (a damaged or changed file); nothing was kept")
        finally:
            if bar is not None:
                bar.close()


def _ensure(source: Source, root: Path, dataset: str) -> Path:
    """The file in `root`, downloaded from the first mirror that answers unless a checked copy is there."""
    target = root / source.name
    if target.is_file() and md5sum(target) == source.md5:
        return target
    errors = []
    for url in source.urls:
        print(f"downloading {url} -> {target}", file=sys.stderr)
        try:
            _fetch(url, target, source)
            return target
        except (urllib.error.URLError, OSError, ValueError) as err:
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
    raise DataUnavailableError(
        f"cannot download {dataset} ({'; '.join(errors)}). Without internet, put the dataset's files in a "
        f"folder and pass it with --data_dir, or set $TINYGRAD_IFT_DATA to it")


def _unpack(archive: Path, root: Path, folder: str) -> None:
    """Extract into a temporary folder, then move `folder` into root: an interrupted unpack leaves nothing."""
    staging = root / f".{folder}.unpacking"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for member in members:  # no absolute paths or '..': the archive stays inside its folder
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise DataUnavailableError(f"download: {archive} holds an unsafe path {member.name!r}")
        tar.extractall(staging, members=members)
    os.replace(staging / folder, root / folder)
    shutil.rmtree(staging)


def download(name: str, root: "str | Path") -> Path:
    """Fetch dataset `name` ("cifar10", "mnist", "fashion_mnist", "svhn") into `root` unless it is already
    there; returns the folder the matching loader reads."""
    if name not in SOURCES:
        raise ValueError(f"download: unknown dataset {name!r}; expected one of {sorted(SOURCES)}")
    root = Path(root)
    for source in SOURCES[name]:
        if source.unpack and (root / UNPACKED[name]).is_dir():
            continue
        path = _ensure(source, root, name)
        if source.unpack:
            _unpack(path, root, UNPACKED[name])
    return root / UNPACKED.get(name, "")


def download_dir(name: str) -> Path:
    """The cache folder of dataset `name` (see cache_root), downloaded there on first use."""
    return download(name, cache_root() / name)
