"""Access-matrix declarations: bookings (see aftersales/testing/matrix.py)."""
