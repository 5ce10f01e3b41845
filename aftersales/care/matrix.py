"""Access-matrix declarations of customer care (see aftersales/testing/matrix.py)."""
