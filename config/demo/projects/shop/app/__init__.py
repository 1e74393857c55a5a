"""The shop: carts, checkout, stock and payments."""
