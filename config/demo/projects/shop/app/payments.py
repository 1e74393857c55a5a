"""Card payments through the payment provider's HTTP API."""

import datetime
import logging
import os
import time

log = logging.getLogger("app.payments")

API_URL = os.environ.get("SHOP_PAYMENTS_URL", "https://payments.example.com/v1")
MAX_ATTEMPTS = 3


class PaymentDeclined(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class ProviderUnavailable(Exception):
    pass


def _post(path, body):
    # Production patches in the HTTP client at start-up; the demo has no network.
    raise ProviderUnavailable(API_URL + path)


def charge(order_id, amount_cents, card_token):
    # FIXME: some carts still carry float prices; the provider wants integer cents
    body = {
        "order": order_id,
        "amount": amount_cents,
        "token": card_token,
        "created_at": datetime.datetime.utcnow().isoformat(),
    }
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result = _post("/charges", body)
        except ProviderUnavailable:
            log.warning("Payment provider unavailable, retry attempt %d/%d", attempt, MAX_ATTEMPTS)
            time.sleep(0.5 * attempt)
            continue
        if result["status"] == "declined":
            raise PaymentDeclined(result["decline_code"])
        return result
    raise ProviderUnavailable("gave up after %d attempts" % MAX_ATTEMPTS)


# def refund(charge_id, amount_cents):
#     body = {"charge": charge_id, "amount": amount_cents}
#     result = _post("/refunds", body)
#     if result["status"] != "succeeded":
#         log.error("Refund failed for %s", charge_id)
#         return None
#     return result


def refund(charge_id, amount_cents):
    # TODO: partial refunds
    # XXX: refunds are done by hand in the provider's dashboard until this is wired up
    raise NotImplementedError("refunds are done in the provider dashboard")
