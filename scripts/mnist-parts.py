#!/usr/bin/env python3
"""Cuts MNIST's training set (www/data/train-*-idx*-ubyte.gz) into parts of 10,000 images, each
a valid IDX file pair, gzip'd, under www/data/parts/, with a manifest (parts.json) that the page
reads: a sweep downloads only the parts it needs. Does nothing when the parts are up to date."""
import gzip
import json
import os
import struct
import sys

PART = 10_000
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "www", "data")
out = os.path.join(root, "parts")
sources = [os.path.join(root, f"train-{k}.gz") for k in ("images-idx3-ubyte", "labels-idx1-ubyte")]
manifest_path = os.path.join(out, "parts.json")
def up_to_date():
    if not os.path.exists(manifest_path):
        return False
    if any(os.path.getmtime(manifest_path) < os.path.getmtime(s) for s in sources):
        return False
    with open(manifest_path) as f:
        parts = json.load(f).get("parts", [])
    return all(os.path.exists(os.path.join(out, p[k])) for p in parts for k in ("images", "labels"))


if up_to_date():
    sys.exit(0)

with gzip.open(sources[0]) as f:
    images = f.read()
with gzip.open(sources[1]) as f:
    labels = f.read()
magic, count, rows, cols = struct.unpack(">IIII", images[:16])
lmagic, lcount = struct.unpack(">II", labels[:8])
assert (magic, rows, cols, lmagic) == (2051, 28, 28, 2049) and count == lcount, "not MNIST's training set"
os.makedirs(out, exist_ok=True)
parts = []
for i, start in enumerate(range(0, count, PART)):
    n = min(PART, count - start)
    files = {
        "images": (f"train-images-idx3-ubyte.{i}", struct.pack(">IIII", 2051, n, 28, 28)
                   + images[16 + start * 784:16 + (start + n) * 784]),
        "labels": (f"train-labels-idx1-ubyte.{i}", struct.pack(">II", 2049, n) + labels[8 + start:8 + start + n]),
    }
    part = {"count": n}
    for kind, (name, data) in files.items():
        path = os.path.join(out, f"{name}.gz")
        with open(path, "wb") as f:
            # mtime=0: the same bytes on every build.
            f.write(gzip.compress(data, compresslevel=9, mtime=0))
        part[kind] = f"{name}.gz"
        part[f"{kind}Bytes"] = os.path.getsize(path)
    parts.append(part)
with open(manifest_path, "w") as f:
    json.dump({"partSize": PART, "trainImages": count, "parts": parts}, f, indent=1)
print(f"www/data/parts: {len(parts)} parts of {PART} training images", file=sys.stderr)
