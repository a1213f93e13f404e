"""Where data lives: an explicit path, else $TINYGRAD_IFT_DATA, else ../shared/data beside the project."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..serialization import load

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path | None:
    """$TINYGRAD_IFT_DATA, or the project's ../shared/data when it exists, else None."""
    env = os.environ.get("TINYGRAD_IFT_DATA")
    if env:
        return Path(env)
    shared = REPO_ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None


def resolve(path: "str | os.PathLike | None") -> Path:
    """The given path, or the default data folder; a clear error when there is none."""
    if path is not None:
        return Path(path)
    found = default_data_dir()
    if found is None:
        raise FileNotFoundError("no data path given, $TINYGRAD_IFT_DATA is unset and ../shared/data does not exist")
    return found


def read_npz(path: Path, dataset: str) -> dict:
    """Every array of a dataset's .npz; a damaged or foreign file is a one-line ValueError naming it."""
    try:
        return dict(load(path))
    except ValueError as err:
        raise ValueError(f"{dataset}: {err}") from err


def cache_file(tag: str, fingerprint: list) -> Path:
    """Where to cache data decoded from files described by `fingerprint` (paths, sizes, mtimes, options: any
    change gives a new name): $TINYGRAD_IFT_CACHE or ~/.cache/tinygrad_ift, as data folders may be read-only."""
    key = hashlib.sha1(repr(fingerprint).encode()).hexdigest()[:16]
    root = Path(os.environ.get("TINYGRAD_IFT_CACHE", Path.home() / ".cache" / "tinygrad_ift"))
    return root / f"{tag}-{key}.npz"
