"""Customer/vehicle imports (being written)."""


def run_queued_imports():
    return 0
