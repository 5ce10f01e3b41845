"""API of the appointments app: setup."""


def register(router):
    pass
