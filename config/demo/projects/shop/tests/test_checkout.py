from app import checkout, inventory


def test_cart_total_applies_the_discount():
    cart = {"items": [{"sku": "MUG-01", "price": 1200, "qty": 2}], "discount": 400}
    assert checkout.cart_total(cart) == 2000


def test_cart_total_is_never_negative():
    cart = {"items": [{"sku": "MUG-01", "price": 1200, "qty": 1}], "discount": 5000}
    assert checkout.cart_total(cart) == 0


def test_reserve_skips_items_out_of_stock():
    reserved = inventory.reserve("t-1", [{"sku": "CAP-RED", "qty": 1}, {"sku": "MUG-01", "qty": 3}])
    assert reserved == [("MUG-01", 3)]
    inventory.release("t-1", reserved)
