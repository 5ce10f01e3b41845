"""reminders API routes on the shared router: the DCRC worklist under /api/reminders/,
the messages, the statistics, recalls and the set-up."""


def register(router):
    from aftersales.reminders.api import messages, pages, recalls, reports, worklist

    for module in (worklist, messages, reports, recalls, pages):
        module.register(router)
