"""Benchmarks never overwrite a results file silently: the committed JSON files are the reference figures."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_benchmark_refuses_an_existing_results_file_before_it_runs(tmp_path):
    existing = tmp_path / "ops_cpu.json"
    existing.write_text('{"reference": true}')
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_ops", "--out", str(existing)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "exists" in done.stderr and "--overwrite" in done.stderr and str(existing) in done.stderr
    assert "Traceback" not in done.stderr
    assert existing.read_text() == '{"reference": true}'


def test_output_path_takes_a_new_file_or_an_explicit_overwrite(tmp_path):
    import argparse

    from benchmarks.common import add_output_arguments, output_path
    parser = argparse.ArgumentParser()
    add_output_arguments(parser, "here")
    new = tmp_path / "new.json"
    assert output_path(parser, parser.parse_args(["--out", str(new)]), "unused") == str(new)
    new.write_text("{}")
    assert output_path(parser, parser.parse_args(["--out", str(new), "--overwrite"]), "unused") == str(new)
