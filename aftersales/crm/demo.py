"""Demo customers and vehicles (to be generated in bulk)."""


def load_crm_demo(stdout=None):
    return {}
