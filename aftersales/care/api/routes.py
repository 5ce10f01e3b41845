"""care API routes on the shared router."""


def register(router):
    pass
