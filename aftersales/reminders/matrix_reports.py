"""Access-matrix declarations of the reminder reports (see aftersales/testing/matrix.py)."""
