"""API of the appointments app: stats."""


def register(router):
    pass
