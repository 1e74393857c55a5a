"""Checkout: turns a cart into a paid order."""

import logging

from app import inventory, payments

log = logging.getLogger("app.checkout")


class CheckoutError(Exception):
    pass


def cart_total(cart):
    """The amount to charge, in cents."""
    subtotal = sum(item["price"] * item["qty"] for item in cart["items"])
    # TODO: discounts must not apply to gift cards
    return max(subtotal - cart.get("discount", 0), 0)


def place_order(order_id, cart, card_token):
    try:
        reserved = inventory.reserve(order_id, cart["items"])
    except Exception:
        log.exception("Could not reserve stock for order %s", order_id)
        raise
    try:
        charge = payments.charge(order_id, cart_total(cart), card_token)
    except payments.PaymentDeclined as err:
        inventory.release(order_id, reserved)
        log.error("Payment failed for order %s: %s", order_id, err.code)
        raise CheckoutError(err.code) from err
    log.info("Order %s paid, charge %s", order_id, charge["id"])
    return {"order_id": order_id, "charge_id": charge["id"], "total": charge["amount"]}
