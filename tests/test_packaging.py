"""The library never imports torch, and imports cleanly without CuPy (torch is a test oracle only)."""
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


def test_library_imports_with_torch_and_cupy_blocked():
    """Import every library module in a fresh interpreter where `import torch`/`import cupy` would fail."""
    code = ("import sys\n"
            "sys.modules['torch'] = None; sys.modules['torchvision'] = None; sys.modules['cupy'] = None\n"
            f"import importlib\nfor name in {_library_modules()!r}:\n    importlib.import_module(name)\n"
            "import tinygrad_ift\nassert not tinygrad_ift.cuda_available()\nprint('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
