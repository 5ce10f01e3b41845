"""Access-matrix declarations: stats (see aftersales/testing/matrix.py)."""
