"""Customer care (SPEC §10): coupons and greetings."""
