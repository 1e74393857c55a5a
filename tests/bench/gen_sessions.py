#!/usr/bin/env python3
"""Writes about SIZE_MB of Claude Code transcripts under DIR/projects (the layout Claude Code uses) for the
project at PROJECT: busy sessions of 2026-11-20 (tool calls, large tool outputs, failing test runs, bookkeeping
records), a tenth of them for another project, and a tenth last written a month before (which must not be read).
Usage: gen_sessions.py DIR PROJECT SIZE_MB"""
import json, os, random, sys

out, project, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(7)
FAIL = ("Exit code 1\n" + "".join(f"tests/test_mod{i}.py::test_case PASSED\n" for i in range(40))
        + "FAILED tests/test_cart.py::test_total - assert 1 == 0\n1 failed, 40 passed in 0.30s")


def encoded(path):
    return "".join(c if c.isalnum() and c.isascii() else "-" for c in path)


def session(cwd, sid, hour):
    lines, n = [], 0
    def rec(kind, minute, second, message, **extra):
        d = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid,
             "version": "2.1.328", "gitBranch": "main", "type": kind, "uuid": f"{sid}-{len(lines)}",
             "timestamp": f"2026-11-20T{hour:02d}:{minute:02d}:{second:02d}.000Z", "message": message}
        d.update(extra)
        lines.append(json.dumps(d, separators=(",", ":")))
    rec("user", 0, 0, {"role": "user", "content": "make the cart total right " * 5})
    for step in range(120):
        minute, second = step // 2, (step % 2) * 30
        n += 1
        kind = rng.choice(["Read", "Bash", "Edit", "Grep"])
        inp = {"Read": {"file_path": f"{cwd}/app/mod{step % 9}.py"},
               "Edit": {"file_path": f"{cwd}/app/cart.py", "old_string": "a" * 200, "new_string": "b" * 200},
               "Grep": {"pattern": "total", "path": cwd},
               "Bash": {"command": "python -m pytest -q tests/test_cart.py", "description": "run the tests"}}[kind]
        rec("assistant", minute, second, {"id": f"msg_{sid}_{n}", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [
                {"type": "text", "text": "Let me look at that. " * 20},
                {"type": "tool_use", "id": f"toolu_{sid}_{n}", "name": kind, "input": inp}],
            "usage": {"input_tokens": 1200, "output_tokens": 300, "cache_creation_input_tokens": 500,
                      "cache_read_input_tokens": 40000}}, requestId=f"req_{sid}_{n}")
        if kind == "Bash":
            content, err = FAIL, step % 3 != 0
        else:
            content, err = "\n".join(f"{i:6d}\t    line {i} of some source file with code" for i in range(rng.randint(50, 600))), False
        rec("user", minute, second + 5, {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{sid}_{n}", "content": content, "is_error": err}]},
            toolUseResult={"stdout": content[:2000], "stderr": "", "interrupted": False})
        if step % 10 == 0:
            lines.append(json.dumps({"type": "attachment", "timestamp": f"2026-11-20T{hour:02d}:{minute:02d}:{second:02d}.500Z",
                                     "sessionId": sid, "attachment": {"type": "prompt_snapshot", "systemPrompt": ["You are an agent. " * 400]}}))
    return "\n".join(lines) + "\n"


total, i = 0, 0
limit = size_mb * 1_000_000
old = 1_792_000_000  # 2026-10-14
while total < limit:
    i += 1
    other = i % 10 == 5
    cwd = project + ("-other" if other else "")
    folder = os.path.join(out, "projects", encoded(cwd))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"session-{i:05d}.jsonl")
    text = session(cwd, f"s{i:05d}", 8 + i % 12)
    with open(path, "w") as f:
        f.write(text)
    if i % 10 == 7:
        os.utime(path, (old, old))
    total += len(text)
print(f"{i} transcripts, {total / 1e6:.0f} MB", file=sys.stderr)
