"""reminders API: messages (registered on the shared router by api/routes.py)."""


def register(router):
    pass
