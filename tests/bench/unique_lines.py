#!/usr/bin/env python3
"""Writes N log messages drawn (seeded) from the Loghub-2k content columns to stdout, every one different from all
the others: each run of digits is replaced by a random number of its length and a line already written is drawn
again, so an exact-line cache never hits and the miner has to mask and place every line.

Usage: unique_lines.py DATA_DIR N"""
import csv
import os
import random
import re
import sys

data, n = sys.argv[1], int(sys.argv[2])
messages = []
for name in sorted(os.listdir(data)):
    path = os.path.join(data, name, f"{name}_2k.log_structured_corrected.csv")
    if os.path.isfile(path):
        with open(path, newline="", encoding="utf-8") as f:
            messages += [row["Content"] for row in csv.DictReader(f)]
rng = random.Random(7)
digits = re.compile(r"\d+")
seen = set()
tries = 0
while len(seen) < n and tries < 50 * n:
    tries += 1
    line = digits.sub(lambda m: str(rng.randrange(10 ** len(m.group()))), rng.choice(messages))
    if line not in seen:
        seen.add(line)
        sys.stdout.write(line + "\n")
