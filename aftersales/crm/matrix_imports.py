"""Access-matrix declarations (see aftersales/testing/matrix.py)."""
