#!/usr/bin/env python3
"""Writes SIZE_MB megabytes of a realistic Python-logging log for 2026-11-20 (the day a run on 2026-11-21 reviews)
to stdout: INFO noise, recurring errors with tracebacks, warnings, and a few lines outside the window."""
import random
import sys

size = int(sys.argv[1]) * 1024 * 1024
rng = random.Random(7)
out = sys.stdout
written = 0
templates = [
    ("INFO", "[app.http] GET /api/orders/{a} 200 {b}ms"),
    ("INFO", "[app.worker] Processed job {a} for user {b}@example.com in {c}ms"),
    ("INFO", "[app.cache] hit ratio {c}% over {a} keys"),
    ("WARNING", "[app.db] Slow query took {c}.{b}s: SELECT * FROM orders WHERE id = {a}"),
    ("ERROR", "[app.checkout] Payment failed for order {a}: card_declined"),
    ("ERROR", "[app.inventory] Stock for sku-{b} went negative ({c})"),
]
weights = [50, 30, 10, 6, 3, 1]
chunk = []
second = 0
while written < size:
    level, text = rng.choices(templates, weights)[0]
    second = (second + 1) % 86400
    ts = f"2026-11-20 {second // 3600:02}:{second % 3600 // 60:02}:{second % 60:02},{rng.randrange(1000):03}"
    line = f"{ts} {level} {text.format(a=rng.randrange(10**6), b=rng.randrange(1000), c=rng.randrange(100))}\n"
    if level == "ERROR" and rng.random() < 0.3:
        line += "Traceback (most recent call last):\n  File \"app/checkout.py\", line 88, in charge\n    gateway.charge(order)\nRuntimeError: gateway said no\n"
    chunk.append(line)
    written += len(line)
    if len(chunk) >= 10000:
        out.write("".join(chunk))
        chunk.clear()
out.write("".join(chunk))
out.write("2026-11-21 00:00:01,000 ERROR [app.checkout] Payment failed for order 1: outside the window\n")
