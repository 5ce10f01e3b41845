"""API of the appointments app: plan."""


def register(router):
    pass
