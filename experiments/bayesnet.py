"""Every query of the practical on the course's Bayesian network (S, D, R, G, L), printed and saved as JSON.

Usage: python -m experiments.bayesnet [--logdir runs/bayesnet]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_ift.files import write_json
from tinygrad_ift.classic import student_network

# (label, query variable, evidence, intervention); values index the variable's states (g2 = 2, l1 = 1, ...)
QUERIES = [
    ("P(G)", "G", {}, {}), ("P(G | R=r1)", "G", {"R": 1}, {}), ("P(G | R=r0)", "G", {"R": 0}, {}),
    ("P(G | R=r1, S=s0)", "G", {"R": 1, "S": 0}, {}), ("P(G | R=r0, S=s0)", "G", {"R": 0, "S": 0}, {}),
    ("P(R | D=d1)", "R", {"D": 1}, {}), ("P(R | D=d0)", "R", {"D": 0}, {}),
    ("P(R | D=d1, G=g2)", "R", {"D": 1, "G": 2}, {}), ("P(R | D=d0, G=g2)", "R", {"D": 0, "G": 2}, {}),
    ("P(R | D=d1, L=l1)", "R", {"D": 1, "L": 1}, {}), ("P(R | D=d0, L=l1)", "R", {"D": 0, "L": 1}, {}),
    ("P(R | do(G=g2))", "R", {}, {"G": 2}), ("P(R | G=g2)", "R", {"G": 2}, {}), ("P(R)", "R", {}, {}),
    ("P(G | do(L=l1))", "G", {}, {"L": 1}), ("P(G=g1 | L=l1)", "G", {"L": 1}, {}),
]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logdir", default="runs/bayesnet", help="(default: %(default)s)")
    args = parser.parse_args(argv)
    net = student_network()
    results = {}
    for label, var, evidence, do in QUERIES:
        table = net.query(var, evidence, do=do)
        results[label] = float(table[1]) if label == "P(G=g1 | L=l1)" else [round(float(p), 6) for p in table]
        print(f"{label:22s} {results[label]}")
    write_json(Path(args.logdir) / "results.json", results)
    return results


if __name__ == "__main__":
    main()
