"""Training time of the course's PReLU text classifier: lossfns cross-entropy vs torch's.

Usage (from the repository root):
    .venv/bin/python benchmarks/bench_classifier.py                 # 5 repeats per language
    .venv/bin/python benchmarks/bench_classifier.py --repeats 9 --threads 2 --markdown out.md

For each shipped corpus the same model (same data, split, seed, hyperparameters) is trained
with ``lossfns.functional.cross_entropy`` and with ``torch.nn.CrossEntropyLoss``, in one
process, repeats interleaved (lossfns, torch, torch, lossfns, ...) after one warm-up run each.
Reported: the median wall time of the training loop (``History.seconds``: all epochs, including
the per-epoch evaluation), the ratio lossfns / torch, and the test accuracy of both runs (equal
up to float rounding, since both losses compute the same function).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree

import torch

from lossfns.classifier import train_classifier


def measure(lang: str, repeats: int, threads: int) -> dict:
    """Median training seconds and test accuracy for both losses on one corpus."""
    losses = {"lossfns": None, "torch": torch.nn.CrossEntropyLoss()}
    times = {name: [] for name in losses}
    accuracy = {}
    for name, loss_fn in losses.items():  # warm-up: loads code, starts the thread pool
        train_classifier(lang, loss_fn=loss_fn, num_threads=threads)
    for i in range(repeats):
        order = list(losses) if i % 2 == 0 else list(reversed(losses))
        for name in order:
            result = train_classifier(lang, loss_fn=losses[name], num_threads=threads)
            times[name].append(result.history.seconds)
            accuracy[name] = result.test_metrics["accuracy"]
    median = {name: statistics.median(values) for name, values in times.items()}
    return {"lang": lang, "lossfns": median["lossfns"], "torch": median["torch"],
            "ratio": median["lossfns"] / median["torch"], "acc_lossfns": accuracy["lossfns"],
            "acc_torch": accuracy["torch"]}


def table(rows: list[dict], repeats: int, threads: int) -> str:
    lines = [(f"Training time of the PReLU classifier on the shipped corpora (median of {repeats}, "
             f"{threads} thread(s), torch {torch.__version__})"), "",
             ("| corpus | lossfns CE (s) | torch CE (s) | lossfns / torch "
             "| test acc lossfns | test acc torch |"),
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['lang']} | {r['lossfns']:.3f} | {r['torch']:.3f} | {r['ratio']:.2f} | "
                     f"{r['acc_lossfns']:.3f} | {r['acc_torch']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (the classifier's default is 1)")
    parser.add_argument("--langs", default="es,en")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    rows = [measure(lang, args.repeats, args.threads) for lang in args.langs.split(",")]
    text = table(rows, args.repeats, args.threads)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
