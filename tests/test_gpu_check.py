"""benchmarks/gpu_check.sh, the one command for a lent GPU, works: its parts run small on the CPU (--quick)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_every_part_and_writes_log_and_json(tmp_path):
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("TINYGRAD_IFT_CUPY_STANDIN", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                        if p and "cupy_standin" not in p)
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), str(tmp_path), "--device", "cpu",
                           "--quick"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "gpu_check.json").read_text())
    assert summary["environment"]["device"] == "cpu" and summary["environment"]["numpy"] and summary["date"]
    parts = summary["parts"]
    assert list(parts) == ["fast_paths", "tests", "bench_ops", "bench_conv", "bench_batchnorm", "step_launches",
                           "model_steps", "training_run"]
    assert {name: part["status"] for name, part in parts.items()} == dict.fromkeys(parts, "passed")
    assert parts["model_steps"]["results"]["tf32_default"]["mlp"]["ratio"] > 0
    assert len(parts["training_run"]["train_losses"]) == 1 and 0 <= parts["training_run"]["test_acc"] <= 1
    log = (tmp_path / "gpu_check.log").read_text()
    assert "=== training_run: passed" in log and "gpu_check: wrote" in log


def test_main_py_finds_the_course_models_without_a_pip_install():
    """On a GPU machine the project runs with PYTHONPATH=. and no install, so no entry point names `models`."""
    code = ("import importlib.metadata, runpy, sys; importlib.metadata.entry_points = lambda **kw: []; "
            "sys.argv = ['main.py', '--help']; runpy.run_path('main.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resnet18" in done.stdout and "mlpmixer" in done.stdout


def test_step_launches_counts_the_nodes_of_a_cuda_graph_by_type():
    """The GPU count reads cudaGraphDebugDotPrint's text: one entry per node, edges not counted."""
    from benchmarks.step_launches import count_nodes
    dot = ('digraph dot {\nsubgraph cluster_1 {\nlabel="graph_1" graph[style="dashed"];\n'
           '"graph_1_node_0"[style="solid" shape="record" label="{KERNEL\\n| {ID | 0 | cupy_add}}"];\n'
           '"graph_1_node_1"[style="solid" shape="rectangle" label="1\\nbn_affine\\n<<<(4,1,1),(256,1,1)>>>"];\n'
           '"graph_1_node_2"[style="solid" shape="record" label="{MEMSET\\n| {ID | 2}}"];\n'
           '"graph_1_node_0" -> "graph_1_node_1";\n"graph_1_node_1" -> "graph_1_node_2";\n}\n}\n')
    assert count_nodes(dot) == {"nodes": 3, "kernel": 2, "memset": 1}


def test_gpu_check_refuses_a_folder_holding_an_earlier_check(tmp_path):
    (tmp_path / "gpu_check.json").write_text("{}")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", str(tmp_path), "--device", "cpu", "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not empty" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "gpu_check.json").read_text() == "{}"
