"""Access-matrix declarations of the reminder pages (see aftersales/testing/matrix.py)."""
