"""Access-matrix declarations: setup (see aftersales/testing/matrix.py)."""
