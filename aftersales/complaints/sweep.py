"""The deadline sweep (时限提示 and automatic 升级): one pass over every filed, open
complaint whose clock runs.

For each complaint and each open step it computes the share of the time limit used (in
working time, pauses excluded) and

* warns the responsible people once per threshold: the OEM's ``warn_at`` percentages and
  100 % at the breach (an in-app message through the outbox, an ``alert`` event);
* escalates automatically, once per reason: not closed in time, predicted not to close in
  time (the working time the open steps still need exceeds the time left), VRT conclusion
  late, dealer plan late — to the goodwill-matrix level of the goodwill the dealer asked
  for, at least level 2;
* recomputes deadlines that rested on guessed (beyond-calendar) days once the calendar
  covers them.

Set-based: complaints are read in batches of ``batch`` ids with a fixed number of queries
per batch, working time comes from a precomputed calendar index (``clock.WorkCalendar``),
and warnings, events, escalations and messages are written with ``bulk_create``. Each batch
is one transaction holding the settings row's lock, so two sweeps never interleave and a
re-run (or a run after a crash mid-way) sends only what is missing: the warnings and
escalations already recorded are read first, and the unique constraints back that up.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.complaints import clock
from aftersales.complaints.choices import RUNNING, EscalationReason, EventKind, StepKind, StepStatus
from aftersales.complaints.models import (
    Complaint,
    ComplaintAlert,
    ComplaintEvent,
    ComplaintSettings,
    ComplaintStep,
    Escalation,
    GoodwillLevel,
)
from aftersales.core.models import OutboxMessage

ZERO = Decimal("0")
AUTOMATIC = (
    EscalationReason.OVERDUE,
    EscalationReason.PREDICTED,
    EscalationReason.VRT_LATE,
    EscalationReason.PLAN_LATE,
)


class _People:
    """Who is told, read once per sweep: holders of the dealer roles per dealer, region
    managers per region, OEM-level holders per role."""

    def __init__(self):
        from aftersales.org.models import RoleAssignment

        self.by_dealer = defaultdict(lambda: defaultdict(set))
        self.by_region = defaultdict(lambda: defaultdict(set))
        self.oem = defaultdict(set)
        rows = RoleAssignment.objects.filter(active=True, user__is_active=True).values_list(
            "role", "dealer_id", "region_id", "user_id"
        )
        for role, dealer_id, region_id, user_id in rows:
            if dealer_id is not None:
                self.by_dealer[dealer_id][role].add(user_id)
            elif region_id is not None:
                self.by_region[region_id][role].add(user_id)
            else:
                self.oem[role].add(user_id)

    def responsible(self, specialist_id, dealer_id, region_id) -> set[int]:
        people = {specialist_id} if specialist_id else set(self.oem["complaint_specialist"])
        dealer = self.by_dealer.get(dealer_id, {})
        people |= dealer.get("service_manager", set()) | dealer.get("dcrc_manager", set())
        people |= self.by_region.get(region_id, {}).get("region_manager", set())
        return people

    def deciders(self, role, dealer_id, region_id) -> set[int]:
        return (
            self.by_dealer.get(dealer_id, {}).get(role, set())
            | self.by_region.get(region_id, {}).get(role, set())
            | self.oem.get(role, set())
        )


def _levels():
    levels = list(
        GoodwillLevel.objects.order_by("min_amount").values_list(
            "min_amount", "max_amount", "role", "level"
        )
    )

    def level_for(amount, at_least=2):
        if not levels:
            return "complaint_specialist", 1
        chosen = levels[0]
        for row in levels:
            if amount >= row[0] and (row[1] is None or amount < row[1]):
                chosen = row
        floor = levels[min(at_least, len(levels)) - 1]
        row = floor if floor[3] > chosen[3] else chosen
        return row[2], row[3]

    return level_for


def complaints_clock(*, now=None, batch: int = 5000, progress=None) -> dict:
    """Run the sweep once. Returns counts: complaints checked, warnings and escalations
    written, deadlines recomputed."""
    now = now or timezone.now()
    settings_row = ComplaintSettings.current()
    thresholds = sorted({int(t) for t in settings_row.warn_at} | {100})
    counts = {"checked": 0, "alerts": 0, "escalations": 0, "recomputed": 0, "messages": 0}
    running = Complaint.objects.filter(
        status__in=RUNNING, paused_since__isnull=True, deadline_at__isnull=False
    )
    bounds = running.order_by().values_list("clock_started_at", flat=True)
    earliest = bounds.order_by("clock_started_at").first()
    if earliest is None:
        return counts
    tz = clock.CALENDAR_TZ
    first = min(earliest, now).astimezone(tz).date() - datetime.timedelta(days=1)
    last = now.astimezone(tz).date() + datetime.timedelta(days=400)
    calendar = clock.WorkCalendar(first, last)
    people = _People()
    level_for = _levels()
    plan_days_s = int(clock.DAY.total_seconds()) * settings_row.plan_days
    half_day_s = int(clock.DAY.total_seconds()) // 2
    last_id = 0
    while True:
        with transaction.atomic():
            ComplaintSettings.objects.select_for_update().filter(pk=settings_row.pk).first()
            rows = list(
                running.filter(pk__gt=last_id)
                .order_by("pk")
                .values(
                    "pk",
                    "number",
                    "subject",
                    "clock_started_at",
                    "limit_days",
                    "paused_total",
                    "deadline_at",
                    "deadline_provisional",
                    "reopen_count",
                    "dealer_id",
                    "region_id",
                    "specialist_id",
                    "escalation_level",
                )[:batch]
            )
            if not rows:
                break
            last_id = rows[-1]["pk"]
            _batch(
                rows, now, calendar, thresholds, people, level_for, plan_days_s, half_day_s, counts
            )
        if progress is not None:
            progress(counts)
    return counts


def _batch(rows, now, calendar, thresholds, people, level_for, plan_days_s, half_day_s, counts):
    ids = [row["pk"] for row in rows]
    alerted = set(
        ComplaintAlert.objects.filter(complaint_id__in=ids).values_list(
            "complaint_id", "step_id", "threshold", "reopen_round"
        )
    )
    steps = defaultdict(list)
    for step in ComplaintStep.objects.filter(complaint_id__in=ids, status=StepStatus.OPEN).values(
        "pk", "complaint_id", "kind", "created_at", "due_at"
    ):
        steps[step["complaint_id"]].append(step)
    plans_done = set(
        ComplaintStep.objects.filter(
            complaint_id__in=ids, kind=StepKind.PLAN, status=StepStatus.DONE
        ).values_list("complaint_id", flat=True)
    )
    asked = {}
    for complaint_id, amount in (
        ComplaintStep.objects.filter(
            complaint_id__in=ids, kind=StepKind.PLAN, goodwill_amount__isnull=False
        )
        .order_by("complaint_id", "done_at")
        .values_list("complaint_id", "goodwill_amount")
    ):
        asked[complaint_id] = amount  # the latest plan's
    escalated = set(
        Escalation.objects.filter(complaint_id__in=ids).values_list("complaint_id", "reason")
    )
    now_s = calendar.seconds(now)
    words = _words()
    alerts, events, messages, escalations = [], [], [], []
    raise_level = defaultdict(list)
    for row in rows:
        counts["checked"] += 1
        pk = row["pk"]
        if row["deadline_provisional"]:
            _recompute(row, counts)
        start = row["clock_started_at"]
        if not (calendar.covers(start) and calendar.covers(row["deadline_at"])):
            continue  # outside the index (a clock started over a year ago): left to a page view
        start_s = calendar.seconds(start)
        base_due, _guessed = calendar.deadline(start, row["limit_days"])
        budget = calendar.seconds(base_due) - start_s
        paused = int(row["paused_total"].total_seconds()) if row["paused_total"] else 0
        used = max(now_s - start_s - paused, 0)
        share = used * 100 // budget if budget > 0 else 100
        who = None
        for threshold in thresholds:
            if share < threshold:
                break
            if (pk, None, threshold, row["reopen_count"]) in alerted:
                continue
            who = who or people.responsible(
                row["specialist_id"], row["dealer_id"], row["region_id"]
            )
            text = (words["overdue"] if threshold >= 100 else words["used"]) % {
                "number": row["number"],
                "days": row["limit_days"],
                "share": threshold,
            }
            alerts.append((pk, None, threshold, row["reopen_count"], now))
            _tell(
                events,
                messages,
                row,
                who,
                text,
                f"{pk}:0:{threshold}:{row['reopen_count']}",
                at=now,
            )
        for step in steps.get(pk, ()):
            total = calendar.between(step["created_at"], step["due_at"])
            spent = max(now_s - calendar.seconds(step["created_at"]), 0)
            step_share = (
                spent * 100 // total if total > 0 else (100 if now >= step["due_at"] else 0)
            )
            for threshold in thresholds:
                if step_share < threshold:
                    break
                if (pk, step["pk"], threshold, 0) in alerted:
                    continue
                who = who or people.responsible(
                    row["specialist_id"], row["dealer_id"], row["region_id"]
                )
                label = words[step["kind"]]
                text = (words["step_overdue"] if threshold >= 100 else words["step_used"]) % {
                    "number": row["number"],
                    "step": label,
                    "share": threshold,
                }
                alerts.append((pk, step["pk"], threshold, 0, now))
                _tell(events, messages, row, who, text, f"{pk}:{step['pk']}:{threshold}:0", at=now)
        reasons = []
        remaining = calendar.seconds(row["deadline_at"]) - now_s
        if now > row["deadline_at"]:
            reasons.append(EscalationReason.OVERDUE)
        else:
            needed = max(
                [
                    max(calendar.seconds(s["due_at"]) - now_s, 0)
                    for s in steps.get(pk, ())
                    if s["kind"] in (StepKind.VRT, StepKind.PROPOSAL)
                ]
                or [0]
            )
            if pk not in plans_done:
                needed += plan_days_s
            needed += half_day_s
            if needed > remaining:
                reasons.append(EscalationReason.PREDICTED)
        for step in steps.get(pk, ()):
            if now > step["due_at"] and step["kind"] == StepKind.VRT:
                reasons.append(EscalationReason.VRT_LATE)
            if now > step["due_at"] and step["kind"] == StepKind.PLAN:
                reasons.append(EscalationReason.PLAN_LATE)
        for reason in dict.fromkeys(reasons):
            if (pk, reason) in escalated:
                continue
            amount = asked.get(pk) or ZERO
            role, level = level_for(amount)
            escalations.append((pk, reason, level, role, amount, "", "", now))
            if level > row["escalation_level"]:
                raise_level[level].append(pk)
            text = words["escalated"] % {
                "number": row["number"],
                "reason": words[reason],
            }
            deciders = people.deciders(role, row["dealer_id"], row["region_id"])
            if row["specialist_id"]:
                deciders = deciders | {row["specialist_id"]}
            _tell(
                events,
                messages,
                row,
                deciders,
                text,
                f"esc:{pk}:{reason}",
                kind=EventKind.ESCALATION,
                at=now,
            )
    _insert(
        ComplaintAlert, ("complaint_id", "step_id", "threshold", "reopen_round", "sent_at"), alerts
    )
    _insert(
        Escalation,
        ("complaint_id", "reason", "level", "role", "amount", "note", "decision", "raised_at"),
        escalations,
    )
    _insert(
        ComplaintEvent,
        ("complaint_id", "at", "kind", "actor_name", "from_status", "to_status", "message", "data"),
        events,
    )
    _insert(
        OutboxMessage,
        (
            "channel",
            "recipient",
            "subject",
            "body",
            "payload",
            "dedup_key",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
        ),
        messages,
    )
    for level, pks in raise_level.items():
        Complaint.objects.filter(pk__in=pks, escalation_level__lt=level).update(
            escalation_level=level, version=F("version") + 1
        )
    counts["alerts"] += len(alerts)
    counts["escalations"] += len(escalations)
    counts["messages"] += len(messages)
    if messages:
        from aftersales.core.outbox import _kick

        transaction.on_commit(_kick)


def _words() -> dict:
    """The messages' texts, translated once per batch rather than once per warning."""
    words = {
        "overdue": _("Complaint %(number)s is overdue (limit %(days)s working days)."),
        "used": _("Complaint %(number)s: %(share)s%% of its time limit used."),
        "step_overdue": _("Complaint %(number)s: %(step)s is overdue."),
        "step_used": _("Complaint %(number)s: %(share)s%% of the time for %(step)s used."),
        "escalated": _("Complaint %(number)s escalated: %(reason)s"),
    }
    words.update({kind: str(label) for kind, label in StepKind.choices})
    words.update({reason: str(label) for reason, label in EscalationReason.choices})
    return words


def _tell(events, messages, row, users, text, key, kind=EventKind.ALERT, *, at):
    events.append((row["pk"], at, kind, "system", "", "", text, "{}"))
    body = f"{row['subject']}\n{text}"
    for user_id in sorted(users):
        dedup = f"complaint-clock:{key}:{user_id}"[:100]
        messages.append(
            ("inapp", str(user_id), text[:200], body, "{}", dedup, "pending", 0, at, "", at)
        )


def _insert(model, columns, rows, *, chunk=500):
    """Rows straight into the table, skipping rows a unique constraint already holds: the
    ORM's ``bulk_create`` builds a model instance and prepares every value of every row,
    several times the cost here. SQLite takes one prepared statement per row
    (``executemany``, in-process and cheap); PostgreSQL one statement per ``chunk`` rows
    (a round trip per row would cost more than the insert)."""
    if not rows:
        return
    from django.db import connection

    sqlite = connection.vendor == "sqlite"
    seen = {}  # the same few instants recur in every row
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        if sqlite:  # naive UTC text, as Django stores datetimes in SQLite
            sql = f"INSERT INTO {table} ({names}) VALUES {one} ON CONFLICT DO NOTHING"
            for start in range(0, len(rows), 2000):
                part = rows[start : start + 2000]
                cursor.executemany(sql, [tuple(_sqlite_value(v, seen) for v in r) for r in part])
            return
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join([one] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values} ON CONFLICT DO NOTHING",
                [v for row in part for v in row],
            )


def _sqlite_value(value, seen):
    if isinstance(value, datetime.datetime):
        text = seen.get(value)
        if text is None:
            text = seen[value] = value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
        return text
    if isinstance(value, Decimal):
        return str(value)
    return value


def _recompute(row, counts):
    due, provisional = clock.limit_deadline(
        row["clock_started_at"], row["limit_days"], row["paused_total"]
    )
    if not provisional:
        Complaint.objects.filter(pk=row["pk"]).update(
            deadline_at=due, deadline_provisional=False, version=F("version") + 1
        )
        row["deadline_at"], row["deadline_provisional"] = due, False
        counts["recomputed"] += 1


__all__ = ["complaints_clock"]
