"""reminders API routes on the shared router: the DCRC worklist under /api/reminders/,
the messages, the statistics and the set-up."""


def register(router):
    from aftersales.reminders.api import messages, pages, reports, worklist

    for module in (worklist, messages, reports, pages):
        module.register(router)
