"""The CuPy stand-in (tests/cupy_standin) is as strict as CuPy 14, and offers nothing CuPy 14 lacks.

The name check imports the real CuPy (the `cupy-cuda13x` wheel of the test extra installs and imports without
a GPU) in a fresh interpreter and looks up every name and keyword the stand-in offers.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

STANDIN = Path(__file__).resolve().parent / "cupy_standin"

OFFERED = "import json, cupy._standin as s; print(json.dumps(s.offered()))"

CHECK = r'''
import inspect, json, re, sys
try:
    import cupy, cupy.cuda.runtime, cupy.lib.stride_tricks, cupy.random, cupyx, cupyx.scipy.special
except ImportError as err:
    print("NO-CUPY", err); sys.exit(0)
assert "standin" not in cupy.__version__, "the stand-in was imported, not CuPy"
missing = []
for dotted, keywords in json.loads(sys.stdin.read()).items():
    obj = None
    try:
        head, *rest = dotted.split(".")
        obj = sys.modules[head]
        for part in rest:
            obj = getattr(obj, part)
    except AttributeError:
        missing.append(dotted); continue
    if not keywords:
        continue
    doc = (type(obj).__call__.__doc__ if isinstance(obj, cupy.ufunc) else obj.__doc__) or ""
    try:
        params = inspect.signature(obj).parameters.values()
        names = {p.name for p in params}
        open_ended = any(p.kind == p.VAR_KEYWORD for p in params)
    except (TypeError, ValueError):  # Cython methods: the signature is the docstring's first line
        first = doc.strip().split("\n")[0]
        names = set(re.findall(r"(\w+)\s*(?:=|,|\))", first[first.find("(") + 1:]))
        open_ended = isinstance(obj, cupy.ufunc)
    for keyword in keywords:
        if keyword not in names and not (open_ended and keyword in doc):
            missing.append(f"{dotted}({keyword}=)")
print(json.dumps(missing))
'''


def _clean_env() -> dict:
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != STANDIN]
    env["PYTHONPATH"] = os.pathsep.join([str(STANDIN.parents[1])] + paths)
    env.pop("TINYGRAD_IFT_CUPY_STANDIN", None)
    return env


def test_every_name_and_keyword_of_the_standin_exists_in_cupy_14():
    env = _clean_env()
    offered = subprocess.run([sys.executable, "-c", OFFERED], capture_output=True, text=True, timeout=120,
                             env={**env, "PYTHONPATH": os.pathsep.join([str(STANDIN), env["PYTHONPATH"]])})
    assert offered.returncode == 0, offered.stderr
    assert len(json.loads(offered.stdout)) > 100
    checked = subprocess.run([sys.executable, "-c", CHECK], input=offered.stdout, capture_output=True, text=True,
                             timeout=300, env=env, cwd="/")
    assert checked.returncode == 0, checked.stderr
    if checked.stdout.startswith("NO-CUPY"):
        pytest.skip(f"the real CuPy is not installed (pip install cupy-cuda13x): {checked.stdout.strip()}")
    assert json.loads(checked.stdout) == []


@pytest.fixture
def cupy(standin):
    import cupy
    return cupy


def test_standin_is_as_strict_as_cupy(cupy, standin):
    a = cupy.arange(6, dtype=np.float32).reshape(2, 3)
    assert not isinstance(a, np.ndarray)
    for convert in (np.asarray, np.array):
        with pytest.raises(TypeError, match="Implicit conversion"):
            convert(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.ones(3, dtype=np.float32) * a
    with pytest.raises(TypeError, match="Unsupported type"):
        a == np.zeros(3)
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        a[0] = np.zeros(3, dtype=np.float32)
    assert (a * 2 + np.float32(1.5)).dtype == np.float32  # scalars are fine
    total = a.sum()
    assert isinstance(total, cupy.ndarray) and total.shape == ()
    assert standin.snapshot() == (0, 0)
    assert float(total) == 15.0 and standin.syncs == 1
    a[np.array([0, 1])]  # host indices are copied to the device
    assert standin.host_to_device == 1
    a[a > 2]  # a boolean mask reads its count back
    assert standin.syncs == 2
    np.testing.assert_array_equal(a[cupy.asarray(np.array([3]))].get(), a[1:2].get())  # wraps, as CuPy's


def test_standin_generator_has_only_cupy_methods_and_its_own_stream(cupy):
    gen = cupy.random.default_rng(0)
    for name in ("permutation", "shuffle", "choice", "bit_generator", "normal"):
        assert not hasattr(gen, name)
    draws = gen.random(5).get()
    assert not np.allclose(draws, np.random.default_rng(0).random(5))
    assert gen.standard_normal((2, 3), dtype=np.float32).dtype == np.float32


def test_standin_counts_device_operations_not_views(cupy, standin):
    """The operation counter (benchmarks/step_launches.py's figure): one per call that computes or copies on the
    device, none for views and allocations."""
    a = cupy.arange(6, dtype=np.float32).reshape(2, 3)
    standin.reset()
    views = (a.reshape(3, 2), a.T, a[0], a[:, 1:], cupy.expand_dims(a, 0), a.astype(np.float32, copy=False),
             cupy.empty((4,)), cupy.ascontiguousarray(a), a.view(type=cupy.ndarray))
    assert len(views) == 9 and standin.operations == 0
    b = a + 1  # add
    b *= 2  # multiply, in place
    a.sum(axis=0)  # sum
    a[cupy.asarray(np.array([1, 0]))]  # asarray (a host-to-device copy), then an advanced index: a gather
    b[0] = 5.0  # setitem
    cupy.ascontiguousarray(a.T)  # a copy
    assert standin.operations == 7
    assert standin.operations_by_name == {"add": 1, "multiply": 1, "sum": 1, "asarray": 1, "getitem": 1,
                                          "setitem": 1, "ascontiguousarray": 1}


def test_step_launches_counts_a_training_step_on_the_standin(tmp_path):
    """benchmarks/step_launches.py --standin: a training step's device operations, by name, without syncs, on the
    reference ops and (with g++) on the fast paths, whose kernel launches count too."""
    env = _clean_env()
    out = tmp_path / "launches.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.step_launches", "--standin", "--model", "mlp",
                           "--batch", "4", "--out", str(out)], capture_output=True, text=True, timeout=300, env=env,
                          cwd=STANDIN.parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads(out.read_text())
    counted = saved["results"]["reference_ops"]
    assert counted["operations"] > 20 and sum(counted["operations_by_name"].values()) == counted["operations"]
    assert counted["syncs"] == 0 and counted["host_to_device"] == 0
    assert saved["environment"]["cupy"].endswith("+standin") and saved["settings"]["model"] == "mlp"
    if shutil.which("g++"):
        fast = saved["results"]["fast_paths"]
        assert fast["kernel_launches"] == sum(fast["kernel_launches_by_name"].values()) > 0
        assert fast["calls"] == fast["operations"] + fast["kernel_launches"] < counted["operations"]
        assert fast["kernel_launches_by_name"]["adam_update"] == 10  # one per parameter: 5 layers, weight and bias
