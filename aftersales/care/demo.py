"""Demo customer care (issue 9 item 7): about 400 coupons over the last 120 days in every
state — issued (some about to expire, a few not valid yet), redeemed at the cashier,
expired, void — given for birthdays, holidays, goodwill and a campaign, by the dealers and
by the OEM; the OEM's and one dealer's greeting settings; one holiday greeting already sent
to a dealer's customers through the real job (outbox messages and coupons), and one
national greeting planned.

Coupons are written in bulk (fixed seed); the sent greeting runs ``holiday_send``.
Idempotent: nothing is added when coupons exist."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aftersales.care.choices import CouponKind, CouponReason, CouponState, HolidayStatus
from aftersales.care.models import Coupon, GreetingSettings, HolidayGreeting
from aftersales.care.services import new_code

SEED = 2607
COUNT = 400
DAYS = 120
STATES = [
    (CouponState.ISSUED, 45),
    (CouponState.REDEEMED, 25),
    (CouponState.EXPIRED, 20),
    (CouponState.VOID, 10),
]
REASONS = [
    (CouponReason.BIRTHDAY, 35),
    (CouponReason.HOLIDAY, 20),
    (CouponReason.GOODWILL, 30),
    (CouponReason.CAMPAIGN, 15),
]
AMOUNTS = ["30", "50", "50", "88", "100", "200"]
PERCENTS = ["5", "8", "10", "15"]
NOTES = {
    CouponReason.GOODWILL: ["投诉安抚", "等待时间过长致歉", "返修补偿", "老客户关怀"],
    CouponReason.CAMPAIGN: ["冬季免费检测活动", "空调清洗季"],
    CouponReason.BIRTHDAY: ["生日关怀"],
    CouponReason.HOLIDAY: ["节日问候"],
}
VOID_REASONS = ["发错客户", "客户已转让车辆", "重复发放"]


def _pick(rng, weighted):
    point = rng.uniform(0, sum(w for _v, w in weighted))
    for value, weight in weighted:
        point -= weight
        if point <= 0:
            return value
    return weighted[-1][0]


def _moment(day: datetime.date, rng) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(rng.randrange(9, 18), rng.randrange(60)))
    )


def _settings(dealers):
    national = GreetingSettings.objects.filter(dealer__isnull=True).first()
    if national is None:
        GreetingSettings.objects.create(
            dealer=None,
            coupon_kind=CouponKind.AMOUNT,
            coupon_amount=Decimal("50"),
            coupon_valid_days=30,
        )
    if dealers and not GreetingSettings.objects.filter(dealer=dealers[0]).exists():
        GreetingSettings.objects.create(
            dealer=dealers[0],
            coupon_kind=CouponKind.PERCENT,
            coupon_percent=Decimal("10"),
            coupon_min_spend=Decimal("300"),
            coupon_valid_days=60,
        )


def _holidays(dealers, today, users):
    """One greeting sent three days ago to the first dealer's customers (the real job),
    one national greeting planned for next month."""
    from aftersales.care.greetings import holiday_send

    creator = users.get("oem-admin") or users.get("oem-pr")
    if creator is None or not dealers:
        return 0
    HolidayGreeting.objects.create(
        name="元旦",
        date=today + datetime.timedelta(days=30),
        text="新年快乐！感谢您一年来的信任与陪伴，祝您和家人平安顺遂。",
        coupon_kind=CouponKind.AMOUNT,
        coupon_amount=Decimal("66"),
        coupon_valid_days=45,
        created_by=creator,
    )
    sent_day = today - datetime.timedelta(days=3)
    holiday = HolidayGreeting.objects.create(
        name="重阳节",
        date=sent_day,
        text="重阳佳节，祝您身体健康、出行平安！",
        dealer=dealers[0],
        coupon_kind=CouponKind.AMOUNT,
        coupon_amount=Decimal("30"),
        coupon_valid_days=30,
        created_by=creator,
    )
    counts = holiday_send(holiday, today=sent_day)
    assert HolidayGreeting.objects.get(pk=holiday.pk).status == HolidayStatus.SENT
    return counts["greeted"]


def load(now=None) -> dict:
    from aftersales.billing.demo import _explicit_times
    from aftersales.crm.models import DealerCustomer
    from aftersales.org.models import Dealer, User

    if Coupon.objects.exists():
        return {"coupons": Coupon.objects.count(), "added": 0}
    rng = random.Random(SEED)
    now = now or timezone.now()
    today = timezone.localdate(now)
    dealers = list(Dealer.objects.order_by("code"))
    links = list(
        DealerCustomer.objects.filter(customer__merged_into__isnull=True)
        .order_by("id")
        .values_list("customer_id", "dealer_id")[:5000]
    )
    if not dealers or not links:
        return {"coupons": 0, "added": 0}
    users = {u.username: u for u in User.objects.filter(username__startswith="oem-")}
    staff = {}
    for user in User.objects.filter(dealer__isnull=False).order_by("username"):
        staff.setdefault((user.dealer_id, user.username.rsplit("-", 1)[-1]), user)
    coupons = []
    for _n in range(COUNT):
        customer_id, dealer_id = rng.choice(links)
        state = _pick(rng, STATES)
        reason = _pick(rng, REASONS)
        oem = reason in (CouponReason.CAMPAIGN, CouponReason.HOLIDAY) and rng.random() < 0.6
        issued_day = today - datetime.timedelta(days=rng.randrange(1, DAYS))
        valid_days = rng.choice([30, 60, 90])
        if state == CouponState.EXPIRED:
            issued_day = today - datetime.timedelta(days=rng.randrange(valid_days + 1, DAYS + 60))
        valid_from = issued_day
        if state == CouponState.ISSUED and rng.random() < 0.05:
            valid_from = today + datetime.timedelta(days=rng.randrange(1, 10))
        valid_until = valid_from + datetime.timedelta(days=valid_days - 1)
        if state in (CouponState.ISSUED, CouponState.REDEEMED) and valid_until < today:
            valid_until = today + datetime.timedelta(days=rng.randrange(1, 30))
        percent = rng.random() < 0.25
        coupon = Coupon(
            code=new_code(),
            customer_id=customer_id,
            dealer_id=None if oem else dealer_id,
            amount=None if percent else Decimal(rng.choice(AMOUNTS)),
            percent=Decimal(rng.choice(PERCENTS)) if percent else None,
            min_spend=Decimal(rng.choice(["200", "300", "500"])) if rng.random() < 0.3 else None,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
            note=rng.choice(NOTES[reason]),
            state=state,
            issued_by=(
                staff.get((dealer_id, rng.choice(["dcrcmgr", "sa"])))
                if reason == CouponReason.GOODWILL
                else None
            ),
            issued_at=_moment(issued_day, rng),
        )
        if state == CouponState.REDEEMED:
            used = min(valid_until, today - datetime.timedelta(days=1))
            day = issued_day + datetime.timedelta(
                days=rng.randrange(0, max(1, (used - issued_day).days + 1))
            )
            coupon.redeemed_at = _moment(min(day, today), rng)
            coupon.redeemed_dealer_id = dealer_id
            coupon.redeemed_by = staff.get((dealer_id, "cashier"))
            coupon.discount = coupon.amount or Decimal(rng.randrange(20, 160))
        elif state == CouponState.VOID:
            coupon.voided_at = _moment(issued_day + datetime.timedelta(days=1), rng)
            coupon.voided_by = staff.get((dealer_id, "dcrcmgr"))
            coupon.void_reason = rng.choice(VOID_REASONS)
        coupons.append(coupon)
    with transaction.atomic(), _explicit_times((Coupon, "issued_at")):
        _settings(dealers)
        Coupon.objects.bulk_create(coupons, batch_size=500)
    greeted = _holidays(dealers, today, users)
    return {"coupons": Coupon.objects.count(), "added": len(coupons), "greeted": greeted}
