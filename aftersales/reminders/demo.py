"""Demo reminders (issue 9 item 9): the monthly run for the two months before this one, this
month and next month over the demo vehicles, a national campaign and a recall, and the
DCRC's work on them — past months worked through (reminded, not reached, declined, booked,
wrong number; a few still open), this month about half done, next month untouched — with
the returns matched against the demo repair orders, so the worklist and the statistics
show something real.

Runs the real set-based monthly run (``monthly.reminders_for_month``) and return matching;
the call outcomes are drawn at random (fixed seed) and written in bulk. Idempotent:
nothing is added when reminders exist."""

import datetime
import random
import time

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from aftersales.reminders.choices import ReminderStatus as S
from aftersales.reminders.models import Reminder
from aftersales.reminders.schedule import add_months, month_start

SEED = 2609
# outcome shares of a month that the DCRC has worked through (the rest stays open)
WORKED = [
    (S.REMINDED, 52),
    (S.NOT_REACHED, 12),
    (S.DECLINED, 9),
    (S.BOOKED, 14),
    (S.WRONG_NUMBER, 3),
    (S.OPEN, 10),
]
NOTES = {
    S.REMINDED: ["已提醒，客户说下周安排", "已告知保养到期", "客户知悉，会自行预约"],
    S.NOT_REACHED: ["无人接听", "关机", "占线，稍后再拨"],
    S.DECLINED: ["客户已在外部维修", "近期出差，暂不保养", "车辆已出售"],
    S.BOOKED: ["已预约到店", "客户预约周末到店"],
    S.WRONG_NUMBER: ["号码错误，非车主本人", "空号"],
}


def _outcome(rng, shares):
    pick = rng.uniform(0, sum(share for _, share in shares))
    for status, share in shares:
        pick -= share
        if pick <= 0:
            return status
    return shares[-1][0]


def _campaign_and_recall(today):
    """A national campaign over one model and a recall of 60 demo vehicles."""
    from aftersales.catalogue.models import VehicleModel
    from aftersales.crm.models import Vehicle
    from aftersales.reminders.campaigns import campaign_create, recall_upload
    from aftersales.reminders.models import Campaign, Recall

    if not Campaign.objects.exists():
        popular = (
            Vehicle.objects.filter(owner__isnull=False)
            .values("variant__vehicle_model")
            .annotate(n=Count("id"))
            .filter(n__gte=100)
            .order_by("n", "variant__vehicle_model")
            .values_list("variant__vehicle_model", flat=True)[:1]
        )
        models = list(VehicleModel.objects.filter(pk__in=list(popular)))
        if models:
            campaign_create(
                actor=None,
                code="DEMO-AC",
                name="夏季空调免费检测",
                scope="national",
                starts_on=month_start(today),
                ends_on=add_months(month_start(today), 2) - datetime.timedelta(days=1),
                vehicle_models=models,
                description="空调系统免费检测，滤芯八折。",
            )
    if not Recall.objects.exists():
        vins = list(
            Vehicle.objects.filter(owner__isnull=False).order_by("id").values_list("vin", flat=True)
        )[7::45][:60]
        if vins:
            recall_upload(
                actor=None,
                code="DEMO-R01",
                title="燃油泵软件升级召回",
                starts_on=today - datetime.timedelta(days=40),
                vin_list="\n".join(vins),
                remedy="升级燃油泵控制单元软件，约 0.5 小时。",
            )


def _wechat_followers(rng):
    """About half of the owners who prefer WeChat registered on the OEM's official account
    (an owner login and the account's openid), so their reminders are messaged first and
    followed up by phone. Returns how many were registered."""
    from django.contrib.auth.hashers import make_password

    from aftersales.crm.models import Customer
    from aftersales.org.models import User

    chosen = [
        (pk, mobile)
        for pk, mobile in Customer.objects.filter(
            contact_channel="wechat", user__isnull=True, merged_into__isnull=True
        )
        .order_by("id")
        .values_list("id", "mobile")
        if rng.random() < 0.5
    ]
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"wx{pk}", password=unusable) for pk, _m in chosen], batch_size=500
    )
    users = dict(
        User.objects.filter(username__in=[f"wx{pk}" for pk, _m in chosen]).values_list(
            "username", "id"
        )
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Customer._meta.db_table} SET user_id = %s, wechat_openid = %s WHERE id = %s",
            [(users[f"wx{pk}"], f"oDEMO{pk:010d}", pk) for pk, _m in chosen],
        )
    return len(chosen)


def _messages(months, now):
    """The WeChat/SMS messages of the registered owners' reminders, queued as the job does;
    those of past months delivered (a few given up: the owner unfollowed the account)."""
    from aftersales.core.models import OutboxMessage, OutboxStatus
    from aftersales.reminders.messages import reminder_messages_queue, reminder_messages_sync
    from aftersales.reminders.models import ReminderMessage

    for month in months:
        reminder_messages_queue(month, now=now)
    this_month = month_start(timezone.localdate(now))
    past = ReminderMessage.objects.filter(reminder__month__lt=this_month, outbox__isnull=False)
    outbox_ids = list(past.order_by("id").values_list("outbox_id", flat=True))
    dead = set(outbox_ids[::23])
    sent_at = now - datetime.timedelta(days=20)
    OutboxMessage.objects.filter(pk__in=[i for i in outbox_ids if i not in dead]).update(
        status=OutboxStatus.SENT, attempts=1, sent_at=sent_at
    )
    OutboxMessage.objects.filter(pk__in=dead).update(
        status=OutboxStatus.DEAD,
        attempts=1,
        last_error="WechatPermanentError: 43004 require subscribe",
    )
    reminder_messages_sync()
    return ReminderMessage.objects.count()


def _agents():
    """The DCRC agents of each dealer: {dealer_id: [user_id, …]}."""
    from aftersales.org.models import RoleAssignment

    agents: dict[int, list[int]] = {}
    for user_id, dealer_id in RoleAssignment.objects.filter(
        role="dcrc_agent", dealer__isnull=False
    ).values_list("user_id", "dealer_id"):
        agents.setdefault(dealer_id, []).append(user_id)
    return agents


def _bookings():
    """One demo booking per vehicle (the latest), for the "booked" outcomes."""
    from aftersales.appointments.models import Booking

    return dict(Booking.objects.order_by("vehicle_id", "starts_at").values_list("vehicle_id", "id"))


def _work(rng, reminders, *, now, done_share, agents, bookings):
    """Give each reminder an agent and, for ``done_share`` of them, a call outcome."""
    changed = []
    for reminder in reminders:
        staff = agents.get(reminder.dealer_id)
        if staff:
            reminder.assigned_to_id = rng.choice(staff)
        if rng.random() < done_share:
            status = _outcome(rng, WORKED)
            if status == S.BOOKED and reminder.vehicle_id not in bookings:
                status = S.REMINDED
            if status != S.OPEN:
                called = min(
                    now - datetime.timedelta(hours=1),
                    timezone.make_aware(datetime.datetime.combine(reminder.month, datetime.time(9)))
                    + datetime.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 480)),
                )
                reminder.status, reminder.status_at = status, called
                reminder.attempts = rng.randint(1, 3) if status == S.NOT_REACHED else 1
                reminder.last_call_at = called
                reminder.note = rng.choice(NOTES[status])
                if status == S.NOT_REACHED and reminder.attempts < 3:
                    reminder.next_call_at = called + datetime.timedelta(days=1)
                if status == S.BOOKED:
                    reminder.booking_id = bookings[reminder.vehicle_id]
        reminder.updated_at = now
        changed.append(reminder)
    return changed


def _db(value):
    """A value as the database adapter takes it (aware date-times as the connection wants)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def load_reminders_demo(now=None):
    from aftersales.reminders.monthly import reminders_for_month
    from aftersales.reminders.reports import statistics_refresh_all
    from aftersales.reminders.returns import returns_match

    if Reminder.objects.exists():
        return {"reminders": Reminder.objects.count(), "added": 0}
    started = time.perf_counter()
    now = now or timezone.now()
    today = timezone.localdate(now)
    this_month = month_start(today)
    months = [add_months(this_month, n) for n in (-2, -1, 0, 1)]
    rng = random.Random(SEED)
    with transaction.atomic():
        followers = _wechat_followers(rng)
        _campaign_and_recall(today)
        for month in months:
            reminders_for_month(month, now=now)
        messages = _messages(months[:3], now)  # next month's go out on its first day
        agents, bookings = _agents(), _bookings()
        columns = (
            "assigned_to_id", "status", "status_at", "attempts", "last_call_at",
            "next_call_at", "note", "booking_id", "updated_at",
        )  # fmt: skip
        statement = (
            f"UPDATE {Reminder._meta.db_table} SET "
            + ", ".join(f"{column} = %s" for column in columns)
            + " WHERE id = %s"
        )
        for month, share in zip(months, (0.97, 0.95, 0.5, 0.0), strict=True):
            rows = list(Reminder.objects.filter(month=month).order_by("id"))
            changed = _work(rng, rows, now=now, done_share=share, agents=agents, bookings=bookings)
            with connection.cursor() as cursor:  # one statement, many rows: bulk_update's
                cursor.executemany(  # CASE WHEN per field is far slower for thousands
                    statement,
                    [[_db(getattr(r, column)) for column in columns] + [r.pk] for r in changed],
                )
        returned = returns_match(today=today)
        statistics_refresh_all()
    return {
        "reminders": Reminder.objects.count(),
        "returned": returned,
        "wechat_followers": followers,
        "messages": messages,
        "seconds": round(time.perf_counter() - started, 1),
    }
