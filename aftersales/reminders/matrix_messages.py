"""Access-matrix declarations of the reminder messages (see aftersales/testing/matrix.py)."""
