"""Quality (SPEC §4 step 8): the technician's self-check and the inspector's QC.

``self_check_record`` closes the work (→ self-checked) once every item of the technician's
checklist is ticked. ``qc_record`` passes the work (→ QC passed) or sends it back
(→ QC failed, which counts a rework) with the reason and the failed items. The inspector
may not have worked on the order: the guard ``same_person`` refuses it on both steps.
Every check is kept as a ``QualityCheck`` row with the round (the order's rework count
then), so the history of every round stays visible.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.workorders.choices import CheckKind, ROStatus
from aftersales.workorders.models import ClockEntry, QualityCheck, RepairOrder
from aftersales.workorders.transitions import (
    GuardRefused,
    Refusal,
    add_check,
    locked,
    may,
    require,
    require_open,
    transition_locked,
)

S = ROStatus

SELF_CHECK_ITEMS = {
    "work_done": gettext_lazy("All work done as ordered"),
    "parts_fitted": gettext_lazy("Parts fitted and tightened to specification"),
    "fluids": gettext_lazy("Fluid levels checked and topped up"),
    "no_warnings": gettext_lazy("No warning lights on the dashboard"),
    "test_drive": gettext_lazy("Test drive done (where needed)"),
    "workplace_clean": gettext_lazy("Tools removed, workplace clean"),
}

QC_ITEMS = {
    "function": gettext_lazy("Function check of the repaired system"),
    "road_test": gettext_lazy("Road test"),
    "no_leaks": gettext_lazy("No leaks"),
    "torque_marks": gettext_lazy("Torque marks on the fasteners"),
    "codes_cleared": gettext_lazy("Fault codes read and cleared"),
    "clean": gettext_lazy("Vehicle clean inside and out"),
    "old_parts": gettext_lazy("Old parts bagged and labelled"),
}


def checklist_answers(items, checklist: dict) -> dict[str, bool]:
    """``items`` (item key -> true/false) checked against ``checklist``: every item must
    be answered and no other key given. Returns the answers in the checklist's order."""
    if not isinstance(items, dict):
        raise ValidationFailed(_("Answer every item of the checklist."), code="invalid")
    unknown = sorted(set(items) - set(checklist))
    if unknown:
        raise ValidationFailed(
            _("Unknown checklist items: %(items)s.") % {"items": ", ".join(unknown)},
            code="invalid",
            fields={"items": [", ".join(unknown)]},
        )
    missing = [key for key in checklist if key not in items or items[key] is None]
    if missing:
        labels = ", ".join(str(checklist[key]) for key in missing)
        raise ValidationFailed(
            _("Answer every item of the checklist: %(items)s.") % {"items": labels},
            code="check_incomplete",
            fields={key: [_("Answer this item.")] for key in missing},
        )
    answers = {}
    for key in checklist:
        value = items[key]
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "yes", "on", "y")
        answers[key] = bool(value)
    return answers


def worked_on(order: RepairOrder, user) -> bool:
    """Did ``user`` clock on any job of the order?"""
    if user is None or not getattr(user, "pk", None):
        return False
    return ClockEntry.objects.filter(repair_order=order, technician=user).exists()


def _same_person(order, actor):
    if worked_on(order, actor):
        return [
            Refusal(
                "same_person",
                _("You worked on this order: another inspector must check it."),
                "inspector",
            )
        ]
    return []


add_check(S.QC_PASSED, _same_person)
add_check(S.QC_FAILED, _same_person)


def self_check_refusal(order: RepairOrder, actor) -> str:
    """Why ``actor`` may not record the order's self-check (empty: he may)."""
    if not may(actor, "workorders.work_repairorder", order):
        return _("You do not have permission to do this.")
    if not (worked_on(order, actor) or may(actor, "workorders.dispatch_repairorder", order)):
        return _("Only a technician who worked on this order, or the foreman, may self-check it.")
    return ""


@transaction.atomic
def self_check_record(
    *, actor, repair_order: RepairOrder | int, version: int, items: dict, remarks: str = ""
) -> RepairOrder:
    """The technician's self-check: every item ticked closes the work (→ self-checked)."""
    order = locked(repair_order, version=version)
    require(actor, order, "workorders.work_repairorder")
    require_open(order)
    answers = checklist_answers(items, SELF_CHECK_ITEMS)
    refusal = self_check_refusal(order, actor)
    if refusal:
        raise PermissionDenied(refusal)
    failed = [key for key, ok in answers.items() if not ok]
    if failed:
        labels = ", ".join(str(SELF_CHECK_ITEMS[key]) for key in failed)
        raise ValidationFailed(
            _("The self-check is not complete: %(items)s.") % {"items": labels},
            code="check_incomplete",
            fields={key: [_("Not done yet.")] for key in failed},
        )
    check = QualityCheck.objects.create(
        repair_order=order,
        kind=CheckKind.SELF,
        passed=True,
        items=answers,
        remarks=remarks.strip(),
        checked_by=actor,
        round=order.rework_count,
    )
    return transition_locked(
        order=order,
        to=S.SELF_CHECKED,
        actor=actor,
        note=remarks.strip() or _("Self-check done"),
        data={"check": check.pk, "round": check.round},
    )


@transaction.atomic
def qc_record(
    *,
    actor,
    repair_order: RepairOrder | int,
    version: int,
    items: dict,
    passed: bool,
    reason: str = "",
) -> RepairOrder:
    """The inspector's QC. A pass needs every item true (→ QC passed); a failure needs
    the reason and at least one failed item (→ QC failed, a rework is counted)."""
    order = locked(repair_order, version=version)
    require(actor, order, "workorders.inspect_repairorder")
    require_open(order)
    found = _same_person(order, actor)
    if found:
        raise GuardRefused(
            found[0].message, code=found[0].code, fields={"inspector": [found[0].message]}
        )
    answers = checklist_answers(items, QC_ITEMS)
    failed = [key for key, ok in answers.items() if not ok]
    reason = (reason or "").strip()
    if passed and failed:
        labels = ", ".join(str(QC_ITEMS[key]) for key in failed)
        raise ValidationFailed(
            _("A pass needs every item checked; not passed: %(items)s.") % {"items": labels},
            code="check_incomplete",
            fields={key: [_("Not passed.")] for key in failed},
        )
    if not passed:
        errors = {}
        if not reason:
            errors["reason"] = [_("Say why the work fails QC.")]
        if not failed:
            errors["items"] = [_("Mark the items that failed.")]
        if errors:
            first = next(iter(errors.values()))[0]
            raise ValidationFailed(first, code="missing_data", fields=errors)
    check = QualityCheck.objects.create(
        repair_order=order,
        kind=CheckKind.QC,
        passed=bool(passed),
        items=answers,
        remarks=reason,
        checked_by=actor,
        round=order.rework_count,
    )
    return transition_locked(
        order=order,
        to=S.QC_PASSED if passed else S.QC_FAILED,
        actor=actor,
        note=reason or _("QC passed"),
        data={"check": check.pk, "round": check.round, "failed": failed},
    )


def check_history(order: RepairOrder) -> list[dict]:
    """The order's checks grouped by round (oldest first), each with its items labelled."""
    labels = {CheckKind.SELF: SELF_CHECK_ITEMS, CheckKind.QC: QC_ITEMS}
    rounds: dict[int, list] = {}
    for check in order.checks.select_related("checked_by").order_by("checked_at", "id"):
        names = labels.get(check.kind)
        if names is None:
            from aftersales.workorders.delivery import DELIVERY_LABELS

            names = DELIVERY_LABELS
        check.item_rows = [
            (str(names.get(key, key)), ok) for key, ok in (check.items or {}).items()
        ]
        rounds.setdefault(check.round, []).append(check)
    return [{"round": number, "checks": checks} for number, checks in sorted(rounds.items())]
