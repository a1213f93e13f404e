"""The library never imports torch or the course models, and imports cleanly without CuPy (torch is a test
oracle only; the models register themselves); what it imports at start-up is in the base install, and the
optional libraries are imported only where needed."""
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


def run_fresh(code: str) -> str:
    """Run `code` in a fresh interpreter from the project root; its printed output, after checking it succeeded."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_library_imports_with_torch_cupy_and_the_optional_libraries_blocked():
    """Import every library module in a fresh interpreter where importing torch, CuPy, or an optional library
    (matplotlib, Pillow, SciPy) would fail: they are imported only where they are used."""
    code = ("import sys\n"
            "for name in ('torch', 'torchvision', 'cupy', 'matplotlib', 'PIL', 'scipy'):\n"
            "    sys.modules[name] = None\n"
            f"import importlib\nfor name in {_library_modules()!r}:\n    importlib.import_module(name)\n"
            "import tinygrad_ift\nassert not tinygrad_ift.cuda_available()\nprint('ok')\n")
    assert run_fresh(code).endswith("ok")


def test_progress_bars_are_part_of_the_base_install():
    """tqdm draws the training and decoding progress bars, so `pip install -e .` alone must bring it."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    required = [line.split(">")[0].split("=")[0].strip() for line in config["options"]["install_requires"].split()]
    assert "tqdm" in required and "numpy" in required


def test_library_does_not_import_the_models_package():
    """Every tinygrad_ift module imports without pulling in the top-level `models` package."""
    names = [name for name in _library_modules() if name.startswith("tinygrad_ift")]
    code = (f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
            "print('models' in sys.modules)\n")
    assert run_fresh(code) == "False"


def test_entry_point_registers_the_course_models():
    """setup.cfg's entry point names a package that, imported in a fresh interpreter, registers the models."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    _, package = config["options.entry_points"]["tinygrad_ift.models"].strip().split("=")
    code = (f"import importlib\nfrom tinygrad_ift import registry\nimportlib.import_module({package.strip()!r})\n"
            "print(sorted(registry._registry))\n")
    assert run_fresh(code) == "['mlp', 'mlpmixer', 'resnet18']"


def test_function_classes_do_not_share_names_with_modules():
    """`nn.ReLU` is the layer; the op behind it has its own name (ReLUFunction), so each name means one thing."""
    import importlib
    import inspect

    import tinygrad_ift as tg
    classes = set()
    for name in _library_modules():
        if name.startswith("tinygrad_ift"):
            classes.update(cls for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass))
    functions = {cls.__name__ for cls in classes if issubclass(cls, tg.Function)}
    modules = {cls.__name__ for cls in classes if issubclass(cls, tg.nn.Module)}
    assert functions and modules
    assert not functions & modules


def test_gpu_extras_name_the_cuda_13_and_cuda_12_builds_of_cupy():
    import configparser
    extras = configparser.ConfigParser()
    extras.read(ROOT / "setup.cfg")
    requirements = {name: value.split() for name, value in extras["options.extras_require"].items()}
    assert requirements["gpu"] == ["cupy-cuda13x>=14"] and requirements["gpu-cuda12"] == ["cupy-cuda12x>=14"]
    assert "cupy-cuda13x>=14" in requirements["test"]  # CI checks the stand-in's names against it
