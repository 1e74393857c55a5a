#!/usr/bin/env python3
"""Prints each finding of the cleanup and docs steps in a state file, one a line, for labelling:
project, kind, file:line, what (tab-separated; tabs and newlines in the text become spaces)."""
import json
import sys


def clean(text):
    return " ".join(str(text).split())


def main():
    state = json.load(open(sys.argv[1]))
    rows = []
    for step in state["steps"]:
        for unit in step["units"]:
            output = unit.get("output") or {}
            data = output.get("data") or {}
            project = unit["project"]
            if step["name"] == "cleanup":
                legacy = data.get("legacy", {})
                for block in legacy.get("commented_out", {}).get("items", []):
                    rows.append((project, "commented_out", f"{block['path']}:{block['start']}", block["preview"]))
                for todo in legacy.get("markers", {}).get("items", []):
                    rows.append((project, "todo", f"{todo['path']}:{todo['line']}", todo["text"]))
                for deprecated in legacy.get("deprecated", []):
                    for use in deprecated["uses"]["items"]:
                        rows.append((project, "deprecated", f"{use['path']}:{use['line']}",
                                     f"/{deprecated['pattern']}/ {use['text']}"))
            elif step["name"] == "docs":
                for finding in data.get("findings", {}).get("items", []):
                    rows.append((project, finding["kind"], f"{finding['file']}:{finding['line']}", finding["what"]))
    for row in rows:
        print("\t".join(clean(cell) for cell in row))


if __name__ == "__main__":
    main()
