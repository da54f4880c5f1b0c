#!/usr/bin/env python3
"""Write the generator's name frequency tables (src/generate/census/) from the 1990 US Census
name files (public domain) that the PyPI package `names` 0.3.0 ships:

    pip download names==0.3.0 --no-deps -d /tmp/names && tar xzf /tmp/names/names-0.3.0.tar.gz -C /tmp/names
    python3 scripts/census_names.py /tmp/names/names-0.3.0/names

Each output line is `Name weight`, the weight in people per ten million. The Census rounds
frequencies to 0.001 %, so the rare names' weights come from the cumulative column averaged over
a window of ranks instead (0.000 % would make them impossible).
"""
import os
import sys

SURNAMES = 30_000  # 81.7 % of the population; the generator makes up the rarer rest.
WINDOW = 250


def title(name):
    out = name.capitalize()
    if out.startswith("Mc") and len(out) > 3:
        out = "Mc" + out[2:].capitalize()
    return out


def read(path, keep):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4:
                rows.append((parts[0], float(parts[1]), float(parts[2])))
    rows = rows[:keep]
    out = []
    for i, (name, freq, _) in enumerate(rows):
        if freq >= 0.01:
            weight = freq
        else:
            lo, hi = max(0, i - WINDOW), min(len(rows) - 1, i + WINDOW)
            weight = (rows[hi][2] - rows[lo][2]) / (hi - lo)
        out.append((title(name), max(1, round(weight * 100_000))))
    # The window average is not monotone at the edges: keep weights non-increasing by rank.
    for i in range(1, len(out)):
        if out[i][1] > out[i - 1][1]:
            out[i] = (out[i][0], out[i - 1][1])
    return out


def write(rows, path):
    with open(path, "w") as f:
        for name, weight in rows:
            f.write(f"{name} {weight}\n")


def main():
    src = sys.argv[1]
    dst = os.path.join(os.path.dirname(__file__), "..", "src", "generate", "census")
    write(read(os.path.join(src, "dist.all.last"), SURNAMES), os.path.join(dst, "surnames.txt"))
    for sex in ("female", "male"):
        rows = read(os.path.join(src, f"dist.{sex}.first"), 10**9)
        write(rows, os.path.join(dst, f"{sex}_first_names.txt"))


if __name__ == "__main__":
    main()
