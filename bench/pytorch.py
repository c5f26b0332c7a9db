#!/usr/bin/env python3
"""The benchmark's PyTorch figures: the same LeNet-5 (src/model.rs), Adam (lr 0.001), batch sizes
and data as batchlab, natively on one CPU thread, timed with the same protocol (bench/README.md):
after the first micro-batch and a warm-up, windows of at least W seconds; the median is reported.
Batches larger than 1,024 images are one Adam step over gradients summed across micro-batches of
1,024, as batchlab does. (PyTorch runs eagerly: there is no queue to wait for at window ends.)

  python bench/pytorch.py [--quick] [--batch 1,16,64] [--threads 1] [--train 60000]

Prints one JSON object: {backend, threads, version, training: [{batchSize, samplesPerSecond,
msPerStep, firstUnitSeconds, windows}], evaluation: {imagesPerSecond}}.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

MICRO = 1024
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "www", "data")
MEAN, STD = 0.1307, 0.3081  # as src/data.rs


def idx(name, header):
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        data = f.read()
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def measure(unit, warmup, window, windows, limit):
    """The protocol of src/bench.rs around `unit()` (does one micro-batch, returns its images):
    the first unit is not measured (set-up), then `warmup` seconds, then `windows` windows of at
    least `window` seconds (fewer once `limit` seconds have passed, but at least one). Returns
    (first unit's seconds, window rates)."""
    start = time.perf_counter()
    unit()
    first = time.perf_counter() - start
    warm_end = time.perf_counter() + warmup
    while time.perf_counter() < warm_end:
        unit()
    rates = []
    while len(rates) < windows:
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < window:
            n += unit()
        rates.append(n / (time.perf_counter() - t0))
        if time.perf_counter() - start > limit:
            break
    return first, rates


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--batch", default="1,16,64,256,1024,4096,60000")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train", type=int, default=60000)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    warmup, window, windows, limit = (0.5, 1.0, 3, 20.0) if a.quick else (2.0, 3.0, 3, 120.0)
    images = (idx("train-images-idx3-ubyte", 16).float().div(255).sub(MEAN).div(STD)).reshape(-1, 1, 28, 28)[:a.train]
    labels = idx("train-labels-idx1-ubyte", 8).long()[:a.train]
    test = (idx("t10k-images-idx3-ubyte", 16).float().div(255).sub(MEAN).div(STD)).reshape(-1, 1, 28, 28)
    loss_fn = nn.CrossEntropyLoss()
    training = []
    for batch in [int(b) for b in a.batch.split(",")]:
        model = lenet5()
        opt = torch.optim.Adam(model.parameters(), lr=0.001)
        n = len(images)
        # As batchlab: a shuffled order per epoch, the last batch of an epoch possibly smaller;
        # a unit is one micro-batch of at most 1,024 images; the step's last one steps Adam.
        state = {"order": torch.randperm(n), "cursor": 0, "end": 0, "steps": 0}

        def unit():
            if state["cursor"] >= state["end"]:
                if state["cursor"] >= n:
                    state["order"], state["cursor"] = torch.randperm(n), 0
                state["end"] = min(state["cursor"] + batch, n)
                state["length"] = state["end"] - state["cursor"]
                opt.zero_grad(set_to_none=True)
            end = min(state["cursor"] + MICRO, state["end"])
            part = state["order"][state["cursor"]:end]
            loss = loss_fn(model(images[part]), labels[part]) * (len(part) / state["length"])
            loss.backward()
            state["cursor"] = end
            if end >= state["end"]:
                opt.step()
                state["steps"] += 1
            return len(part)

        first, rates = measure(unit, warmup, window, windows, limit)
        sps = statistics.median(rates)
        training.append({"batchSize": batch, "samplesPerSecond": sps, "msPerStep": 1000 * min(batch, n) / sps,
                         "firstUnitSeconds": first, "windows": rates})
        print(f"pytorch, batch size {batch}: {sps:.0f} samples/s", file=sys.stderr)
    model = lenet5().eval()

    def evaluate():
        with torch.no_grad():
            for s in range(0, len(test), 1000):
                model(test[s:s + 1000]).argmax(1)

    def evaluate_unit():
        evaluate()
        return len(test)

    _, rates = measure(evaluate_unit, warmup, window, windows, limit)
    print(json.dumps({"backend": "pytorch-cpu", "threads": a.threads, "version": torch.__version__,
                      "training": training, "evaluation": {"imagesPerSecond": statistics.median(rates)}}))


if __name__ == "__main__":
    main()
