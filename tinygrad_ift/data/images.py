"""Image-folder trees (`<split>/<class>/*.jpg|png`), as folders or inside a .tar.gz, decoded once and cached."""
from __future__ import annotations

import io
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

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
        decoded = list(pool.map(lambda e: _decode(e[2], f"{source}/{e[0]}/{e[1]}"), entries))
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


def read_image_folder(root: Path, classes: list[str] | None = None) -> dict:
    """A `<root>/<class>/<image>` tree; labels follow `classes` (default: sorted folder names). Cached."""
    files = sorted(f for f in root.resolve().glob("*/*") if f.suffix.lower() in IMAGE_SUFFIXES)
    cache = cache_file("imagefolder", [classes, *map(_stamp, files)])
    if cache.exists():
        return dict(load(cache))
    out = _stack([(f.parent.name, f.name, f.read_bytes()) for f in files], classes, str(root))
    save(out, cache)
    return out


def read_image_tar(archive: Path, split: str, classes: list[str] | None = None) -> dict:
    """The `<split>/<class>/<image>` members of a .tar.gz, decoded without extracting. Cached."""
    cache = cache_file(f"imagetar-{split}", [classes, _stamp(archive.resolve())])
    if cache.exists():
        return dict(load(cache))
    entries = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = Path(member.name).parts
                if (member.isfile() and len(parts) >= 3 and parts[-3] == split
                        and Path(parts[-1]).suffix.lower() in IMAGE_SUFFIXES):
                    entries.append((parts[-2], parts[-1], tar.extractfile(member).read()))
    except tarfile.TarError as err:
        raise ValueError(f"{archive}: not a readable tar archive ({err})") from err
    out = _stack(entries, classes, f"{archive}:{split}")
    save(out, cache)
    return out
