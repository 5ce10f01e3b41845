"""Access-matrix declarations: plan (see aftersales/testing/matrix.py)."""
