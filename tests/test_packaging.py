"""The library never imports torch, and imports cleanly without CuPy (torch is a test oracle only); what it
imports at start-up is in the base install, and the optional libraries are imported only where needed."""
import configparser
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _library_modules() -> list:
    import models
    import tinygrad_ift
    names = []
    for package in (tinygrad_ift, models):
        names.append(package.__name__)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                  if not m.name.endswith("__main__")]
    return names


def test_library_imports_with_torch_cupy_and_the_optional_libraries_blocked():
    """Import every library module in a fresh interpreter where importing torch, CuPy, or an optional library
    (matplotlib, Pillow, SciPy) would fail: they are imported only where they are used."""
    code = ("import sys\n"
            "for name in ('torch', 'torchvision', 'cupy', 'matplotlib', 'PIL', 'scipy'):\n"
            "    sys.modules[name] = None\n"
            f"import importlib\nfor name in {_library_modules()!r}:\n    importlib.import_module(name)\n"
            "import tinygrad_ift\nassert not tinygrad_ift.cuda_available()\nprint('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_progress_bars_are_part_of_the_base_install():
    """tqdm draws the training and decoding progress bars, so `pip install -e .` alone must bring it."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    required = [line.split(">")[0].split("=")[0].strip() for line in config["options"]["install_requires"].split()]
    assert "tqdm" in required and "numpy" in required
