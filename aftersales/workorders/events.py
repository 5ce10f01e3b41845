"""The repair order's timeline: one row per step, with who and when."""

from aftersales.workorders.models import RepairOrder, RepairOrderEvent


def actor_label(actor) -> str:
    if actor is None:
        return ""
    return str(actor)


def record_event(
    repair_order: RepairOrder,
    *,
    kind: str,
    actor,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> RepairOrderEvent:
    """Append a step to the order's timeline. ``message`` is stored as written (already
    translated to the language of the person who did it, like a note on paper); ``data``
    holds the structured detail (line ids, quantities, reasons)."""
    return RepairOrderEvent.objects.create(
        repair_order=repair_order,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_label(actor),
        message=str(message)[:300],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
