"""reminders API routes on the shared router: the DCRC worklist under /api/reminders/."""


def register(router):
    from aftersales.reminders.api import worklist

    worklist.register(router)
