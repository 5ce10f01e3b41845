"""API of the appointments app: bookings."""


def register(router):
    pass
