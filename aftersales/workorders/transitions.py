"""The repair order's one state machine (ARCHITECTURE rule 2).

``repair_order_transition(repair_order=, to=, actor=)`` locks the order, checks the
transition table (``choices.TRANSITIONS``), the guard of the step (who may do it, what must
be filled in), stamps the step's time, saves with ``update_fields``, writes the timeline
event and the audit row and runs the effects registered for the new status inside the same
transaction (``@on_enter``). A refused step raises a coded ``Conflict`` (HTTP 409) or
``PermissionDenied`` (403) and changes nothing.

The shared helpers every workorders service uses live here too: ``locked`` (row lock plus
the optimistic version check that keeps two advisors from overwriting each other),
``require`` (a permission at the order's dealer) and ``bump`` (a new version after an edit).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core import versioning
from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_event
from aftersales.core.errors import Conflict, PermissionDenied
from aftersales.core.models import AuditAction
from aftersales.workorders.choices import TRANSITIONS, EventKind, ROStatus
from aftersales.workorders.events import record_event
from aftersales.workorders.models import RepairOrder

S = ROStatus


class IllegalTransition(Conflict):
    code = "illegal_transition"


StaleVersion = versioning.StaleVersion


class GuardRefused(Conflict):
    """A step the table allows, refused because something it needs is missing."""

    code = "guard_failed"


class OrderClosed(Conflict):
    code = "order_closed"


# ---------------------------------------------------------------- shared helpers


def _dealer(repair_order):
    from aftersales.org.models import Dealer

    return Dealer(pk=repair_order.dealer_id)


def may(actor, permission: str, repair_order: RepairOrder) -> bool:
    return allowed_at(actor, permission, dealer=_dealer(repair_order))


def require(actor, repair_order: RepairOrder, *permissions: str) -> None:
    """The actor must hold one of ``permissions`` at the order's dealer."""
    if not any(may(actor, p, repair_order) for p in permissions):
        raise PermissionDenied()


def locked(repair_order: RepairOrder | int, *, version: int | None = None) -> RepairOrder:
    """The order, re-read under a row lock. With ``version`` (what the client last saw),
    a change saved by someone else since then is refused with ``stale`` (409)."""
    return versioning.locked_row(
        RepairOrder.objects,
        repair_order,
        version=version,
        stale_message=lambda order: (
            _(
                "Repair order %(number)s was changed by someone else in the meantime. "
                "Reload it and make your change again."
            )
            % {"number": order.number}
        ),
    )


def require_open(order: RepairOrder) -> None:
    if order.status in (S.CLOSED, S.CANCELLED):
        raise OrderClosed(
            _("Repair order %(number)s is %(status)s; it cannot change any more.")
            % {"number": order.number, "status": order.get_status_display()}
        )


def bump(order: RepairOrder, *fields: str) -> None:
    """Save ``fields`` of the locked order and give it a new version. The order was read
    under its row lock in this transaction (``locked``), so nobody else can have changed
    its version since: the new one is known without reading it back."""
    order.version = int(order.version) + 1
    order.save(update_fields=[*fields, "version", "updated_at"])


# ---------------------------------------------------------------- guards


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    field: str = "__all__"


Check = Callable[[RepairOrder, object], list[Refusal]]


@dataclass(frozen=True)
class Guard:
    permissions: tuple[str, ...]
    checks: tuple[Check, ...] = ()


def _reception_complete(order, actor):
    missing = []
    if order.odometer_km is None:
        missing.append(Refusal("missing_data", _("Record the odometer reading."), "odometer_km"))
    if order.odometer_suspect and not order.odometer_reason.strip():
        missing.append(
            Refusal(
                "odometer_reason",
                _("The odometer reads lower than before: give a reason to continue."),
                "odometer_reason",
            )
        )
    if not order.fuel_level:
        missing.append(Refusal("missing_data", _("Record the fuel or charge level."), "fuel_level"))
    if not order.concern.strip():
        missing.append(Refusal("missing_data", _("Write down the customer's concern."), "concern"))
    if not order.covers_installed:
        missing.append(
            Refusal(
                "missing_data",
                _("Install the protective covers (seat, wheel, floor) first."),
                "covers_installed",
            )
        )
    return missing


def _has_lines(order, actor):
    from aftersales.workorders.choices import Approval

    if not order.lines.exclude(approval=Approval.DECLINED).exists():
        return [Refusal("missing_data", _("Add at least one line to the estimate."), "lines")]
    return []


def _estimate_terms(order, actor):
    missing = []
    if not order.payment_method:
        missing.append(Refusal("missing_data", _("Choose the payment method."), "payment_method"))
    if not order.old_parts:
        missing.append(
            Refusal("missing_data", _("Ask what to do with the old parts."), "old_parts")
        )
    if order.promised_at is None:
        missing.append(
            Refusal("missing_data", _("Set the promised completion time."), "promised_at")
        )
    return missing


def _signed(order, actor):
    if order.signed_at is None or not order.signature_kind:
        return [
            Refusal(
                "not_authorized",
                _("The customer has not signed the repair order: work cannot start."),
                "signature",
            )
        ]
    return []


def _proposed_lines_decided(order, actor):
    from aftersales.workorders.choices import Approval

    if order.lines.filter(approval=Approval.PROPOSED, additional=False).exists():
        return [
            Refusal(
                "missing_data",
                _("Some lines still wait for the customer's decision."),
                "lines",
            )
        ]
    return []


def _cancel_reason(order, actor):
    if not order.cancel_reason.strip():
        return [Refusal("missing_data", _("Give a reason for cancelling."), "cancel_reason")]
    return []


GUARDS: dict[tuple[str, str], Guard] = {}
_ENTER_PERMISSION = {
    S.CHECKED_IN: ("workorders.add_repairorder",),
    S.DIAGNOSING: ("workorders.change_repairorder", "workorders.dispatch_repairorder"),
    S.ESTIMATED: ("workorders.change_repairorder",),
    S.AWAITING_APPROVAL: ("workorders.change_repairorder",),
    S.APPROVED: ("workorders.authorize_repairorder",),
    S.IN_PROGRESS: ("workorders.work_repairorder", "workorders.dispatch_repairorder"),
    S.WAITING_PARTS: ("workorders.work_repairorder", "workorders.dispatch_repairorder"),
    S.PAUSED: ("workorders.work_repairorder", "workorders.dispatch_repairorder"),
    S.SELF_CHECKED: ("workorders.work_repairorder",),
    S.QC_PASSED: ("workorders.inspect_repairorder",),
    S.QC_FAILED: ("workorders.inspect_repairorder",),
    S.REWORK: ("workorders.work_repairorder", "workorders.dispatch_repairorder"),
    S.READY: ("workorders.deliver_repairorder",),
    S.DELIVERED: ("workorders.deliver_repairorder",),
    S.CLOSED: ("workorders.close_repairorder",),
    S.CANCELLED: ("workorders.cancel_repairorder",),
}
_ENTER_CHECKS: dict[str, tuple[Check, ...]] = {
    S.CHECKED_IN: (_reception_complete,),
    S.ESTIMATED: (_has_lines,),
    S.AWAITING_APPROVAL: (_has_lines, _estimate_terms),
    S.APPROVED: (_has_lines, _estimate_terms, _signed, _proposed_lines_decided),
    S.IN_PROGRESS: (_signed,),
    S.CANCELLED: (_cancel_reason,),
}
for _source, _targets in TRANSITIONS.items():
    for _target in _targets:
        GUARDS[(_source, _target)] = Guard(
            _ENTER_PERMISSION[_target], _ENTER_CHECKS.get(_target, ())
        )

# Checks other modules add to a step (``add_check``): e.g. the workshop's "every job is
# finished" before self-check, quality's "the inspector did not do the work".
_EXTRA_CHECKS: dict[str, list[Check]] = defaultdict(list)
# Effects of entering a status, run in the transaction (``@on_enter``).
_EFFECTS: dict[str, list[Callable]] = defaultdict(list)

_STAMPS = {
    S.CHECKED_IN: "checked_in_at",
    S.APPROVED: "approved_at",
    S.SELF_CHECKED: "work_done_at",
    S.QC_PASSED: "qc_passed_at",
    S.READY: "ready_at",
    S.DELIVERED: "delivered_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}


def add_check(status: str, check: Check) -> None:
    """Add a guard check to every step into ``status``."""
    if check not in _EXTRA_CHECKS[status]:
        _EXTRA_CHECKS[status].append(check)


def on_enter(*statuses: str):
    """Register ``effect(order, actor, from_status)`` to run when an order enters one of
    ``statuses``, inside the transition's transaction (a failure undoes the step)."""

    def register(effect):
        for status in statuses:
            if effect not in _EFFECTS[status]:
                _EFFECTS[status].append(effect)
        return effect

    return register


def allowed_targets(order: RepairOrder) -> set[str]:
    return set(TRANSITIONS.get(order.status, set()))


def refusals(order: RepairOrder, to: str, actor) -> list[Refusal]:
    """What stands between the order and ``to`` (empty: the step may be taken). The
    pages use it to show why a button is disabled."""
    guard = GUARDS.get((order.status, to))
    if guard is None:
        return [Refusal("illegal_transition", _illegal_message(order, to))]
    found = []
    for check in (*guard.checks, *_EXTRA_CHECKS.get(to, ())):
        found.extend(check(order, actor))
    return found


def _illegal_message(order, to):
    return _("Repair order %(number)s is %(old)s; it cannot become %(new)s.") % {
        "number": order.number,
        "old": S(order.status).label,
        "new": S(to).label,
    }


@transaction.atomic
def repair_order_transition(
    *,
    repair_order: RepairOrder | int,
    to: str,
    actor,
    version: int | None = None,
    note: str = "",
    data: dict | None = None,
) -> RepairOrder:
    """Move the order to ``to``: see the module's docstring."""
    order = locked(repair_order, version=version)
    return _transition(order, to, actor, note, data)


@transaction.atomic
def transition_locked(
    *, order: RepairOrder, to: str, actor, note: str = "", data: dict | None = None
) -> RepairOrder:
    """``repair_order_transition`` for a service that already holds ``order`` from
    ``locked`` in the current transaction (and kept the instance up to date: ``bump``,
    ``save(update_fields=...)``): the row is not read and locked a second time."""
    return _transition(order, to, actor, note, data)


def _transition(order, to, actor, note, data):
    if to not in S.values:
        raise IllegalTransition(_("Unknown status %(status)s.") % {"status": to})
    guard = GUARDS.get((order.status, to))
    if guard is None:
        raise IllegalTransition(_illegal_message(order, to))
    require(actor, order, *guard.permissions)
    found = refusals(order, to, actor)
    if found:
        fields = defaultdict(list)
        for refusal in found:
            fields[refusal.field].append(refusal.message)
        raise GuardRefused(found[0].message, code=found[0].code, fields=dict(fields))
    old = order.status
    order.status = to
    changed = ["status"]
    now = timezone.now()
    stamp = _STAMPS.get(to)
    if stamp:
        setattr(order, stamp, now)
        changed.append(stamp)
    if to == S.IN_PROGRESS and order.started_at is None:
        order.started_at = now
        changed.append("started_at")
    if to == S.QC_FAILED:
        order.rework_count = F("rework_count") + 1
        changed.append("rework_count")
    bump(order, *changed)
    if to == S.QC_FAILED:
        order.refresh_from_db(fields=["rework_count"])
    record_event(
        order,
        kind=EventKind.STATUS,
        actor=actor,
        message=note,
        from_status=old,
        to_status=to,
        data=data,
    )
    audit_event(order, actor=actor, action=AuditAction.UPDATE, changes={"status": [old, to]})
    for effect in _EFFECTS.get(to, ()):
        effect(order, actor, old)
    return order
