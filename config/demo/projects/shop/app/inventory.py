"""Stock levels and reservations."""

import logging
import os
import time

log = logging.getLogger("app.inventory")

SLOW_QUERY_SECONDS = 1.0

_levels = {"TSHIRT-M": 40, "TSHIRT-L": 12, "MUG-01": 120, "CAP-RED": 0}
_reservations = {}


def _query(sql, *params):
    started = time.monotonic()
    # XXX: in-memory stand-in; production queries Postgres through SHOP_DATABASE_URL
    rows = [(sku, _levels.get(sku, 0)) for sku in params]
    elapsed = time.monotonic() - started
    if elapsed > SLOW_QUERY_SECONDS:
        log.warning("Slow query (%.1fs): %s", elapsed, sql)
    return rows


def reserve(order_id, items):
    """Takes the items of an order out of stock; returns what was reserved."""
    reserved = []
    for item in items:
        sku = item["sku"]
        (_, level), = _query("SELECT sku, level FROM stock WHERE sku = ANY(%s)", sku)
        if level < item["qty"]:
            log.warning("Not enough stock for %s: %d left, %d wanted", sku, level, item["qty"])
            continue
        _levels[sku] = level - item["qty"]
        reserved.append((sku, item["qty"]))
    _reservations[order_id] = reserved
    return reserved


def release(order_id, reserved):
    for sku, qty in reserved:
        _levels[sku] = _levels.get(sku, 0) + qty
    _reservations.pop(order_id, None)


def disk_usage():
    # Used by the old admin page only.
    return os.popen("df -h /var/lib/shop").read()
