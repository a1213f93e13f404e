"""Image-folder trees (`<split>/<class>/*.jpg|png`), as folders or inside a .tar.gz, decoded once and cached.

The cache (one uncompressed .npz per decoded tree: its images as uint8 arrays) lives in $TINYGRAD_IFT_CACHE
or ~/.cache/tinygrad_ift. A damaged cache file is decoded again and rewritten; an
unwritable cache folder costs a warning, and the images are decoded on every run.
"""
from __future__ import annotations

import io
import tarfile
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from ..serialization import load, save
from .paths import cache_file

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def _decode(data: bytes, where: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("decoding image files needs Pillow: pip install pillow") from err
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except Exception as err:
        raise ValueError(f"{where}: not a readable image ({err})") from err


def _stack(entries: list[tuple[str, str, bytes]], classes: list[str] | None, source: str) -> dict:
    """entries: (class name, file name, bytes) -> images (N, H, W, 3) uint8 and labels int64."""
    if not entries:
        raise FileNotFoundError(f"{source}: no image files (<class>/*{'|*'.join(IMAGE_SUFFIXES)}) found")
    names = sorted({cls for cls, _, _ in entries}) if classes is None else list(classes)
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({cls for cls, _, _ in entries} - set(index))
    if unknown:
        raise ValueError(f"{source}: class folders {unknown} are not among the expected classes {names}")
    entries.sort(key=lambda e: (index[e[0]], e[1]))
    with ThreadPoolExecutor() as pool:  # Pillow releases the GIL while it decodes
        decoding = pool.map(lambda e: _decode(e[2], f"{source}/{e[0]}/{e[1]}"), entries)
        decoded = list(tqdm(decoding, total=len(entries), desc=f"decoding {source} (once: then cached)",
                            unit="image", dynamic_ncols=True))
    odd = next((i for i, image in enumerate(decoded) if image.shape != decoded[0].shape), None)
    if odd is not None:
        raise ValueError(f"{source}: images differ in size: {entries[0][0]}/{entries[0][1]} is "
                         f"{decoded[0].shape} but {entries[odd][0]}/{entries[odd][1]} is {decoded[odd].shape}")
    images = np.stack(decoded)
    labels = np.array([index[cls] for cls, _, _ in entries], dtype=np.int64)
    return {"x": images, "y": labels, "classes": np.array(names)}


def _stamp(path: Path) -> tuple[str, int, int]:
    """What identifies a file's content for caching: its path, size and modification time."""
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def _cached(cache: Path, decode: Callable[[], dict]) -> dict:
    """The arrays `decode()` makes, read from `cache` when a sound copy is there, else decoded and written."""
    if cache.exists():
        try:
            out = dict(load(cache))
        except (ValueError, OSError) as err:  # damaged, or unreadable
            problem = str(err)
        else:
            if {"x", "y", "classes"} <= out.keys():
                return out
            problem = f"{cache} lacks some of the arrays x, y, classes"
        warnings.warn(f"the decode cache is unusable ({problem}); decoding the images again to rebuild it",
                      stacklevel=3)
    out = decode()
    try:
        save(out, cache)
    except OSError as err:
        warnings.warn(f"cannot write the decode cache {cache} ({err}); continuing without it, so the next run "
                      "decodes the images again. Set $TINYGRAD_IFT_CACHE to a writable folder", stacklevel=3)
    return out


def read_image_folder(root: Path, classes: list[str] | None = None) -> dict:
    """A `<root>/<class>/<image>` tree; labels follow `classes` (default: sorted folder names). Cached."""
    files = sorted(f for f in root.resolve().glob("*/*") if f.suffix.lower() in IMAGE_SUFFIXES)
    cache = cache_file("imagefolder", [classes, *map(_stamp, files)])
    return _cached(cache, lambda: _stack([(f.parent.name, f.name, f.read_bytes()) for f in files], classes,
                                         str(root)))


def read_image_tar(archive: Path, split: str, classes: list[str] | None = None) -> dict:
    """The `<split>/<class>/<image>` members of a .tar.gz, decoded without extracting. Cached."""
    cache = cache_file(f"imagetar-{split}", [classes, _stamp(archive.resolve())])
    return _cached(cache, lambda: _stack(_tar_entries(archive, split), classes, f"{archive}:{split}"))


def _tar_entries(archive: Path, split: str) -> list[tuple[str, str, bytes]]:
    """(class name, file name, bytes) of every image under `<split>/` in the archive."""
    entries = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tqdm(tar, desc=f"reading {archive}", unit=" entries", dynamic_ncols=True):
                parts = Path(member.name).parts
                if (member.isfile() and len(parts) >= 3 and parts[-3] == split
                        and Path(parts[-1]).suffix.lower() in IMAGE_SUFFIXES):
                    entries.append((parts[-2], parts[-1], tar.extractfile(member).read()))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:  # e.g. a download cut short
        raise ValueError(f"{archive}: not a readable tar archive, or damaged ({err}); fetch it again") from err
    return entries
