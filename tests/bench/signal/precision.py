#!/usr/bin/env python3
"""Precision per kind of finding: joins the findings `run.sh` printed with the labels.

Usage: precision.py FINDINGS.tsv LABELS.tsv
LABELS.tsv: project, kind, file:line, what, true|false, why (the first four as `run.sh` printed them).
`n/a` labels a finding that says something about the registry archive rather than the project (a file the
archive leaves out but the repository has): it is counted apart, not in the precision.
A finding without a label is listed and counted apart: label it before trusting the figures."""
import collections
import sys


def rows(path):
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def main():
    labels = {}
    for cells in rows(sys.argv[2]):
        labels[tuple(cells[:4])] = cells[4]
    per_kind = collections.defaultdict(lambda: [0, 0])
    per_project = collections.defaultdict(lambda: [0, 0])
    unlabelled = []
    archive = collections.Counter()
    for cells in rows(sys.argv[1]):
        key = tuple(cells[:4])
        label = labels.get(key)
        if label == "n/a":
            archive[key[1]] += 1
            continue
        if label not in ("true", "false"):
            unlabelled.append("\t".join(key))
            continue
        for table, name in ((per_kind, key[1]), (per_project, f"{key[0]} {key[1]}")):
            table[name][1] += 1
            table[name][0] += label == "true"
    print("kind\ttrue/all\tprecision\tn/a (archive)")
    for kind, (good, total) in sorted(per_kind.items()):
        print(f"{kind}\t{good}/{total}\t{100 * good / total:.0f}%\t{archive[kind]}")
    all_good = sum(g for g, _ in per_kind.values())
    all_total = sum(t for _, t in per_kind.values())
    if all_total:
        print(f"all\t{all_good}/{all_total}\t{100 * all_good / all_total:.0f}%\t{sum(archive.values())}")
    print()
    for name, (good, total) in sorted(per_project.items()):
        print(f"  {name}\t{good}/{total}")
    if unlabelled:
        print(f"\n{len(unlabelled)} findings without a label:")
        for line in unlabelled:
            print("  " + line)


if __name__ == "__main__":
    main()
