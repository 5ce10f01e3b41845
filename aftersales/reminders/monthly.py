"""The monthly run (source 2-9: "dms saves the next month's reminder details on the last day
of the month"): every reminder due in a month, for every vehicle, set-based.

1. One ``CREATE TEMPORARY TABLE … AS SELECT`` gathers what the rules need per vehicle (the
   *facts*): owner and whether they registered, the dealer the vehicle belongs to (the
   dealer of its last visit, else the selling dealer, else its first dealer link), the
   catalogue's intervals, the last maintenance visit, the latest odometer reading and the
   estimated distance per day (a least-squares slope over the readings of the last
   ``history_days``; the default when the history is thin).
2. One ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per kind writes the reminders due in the
   month. The unique keys (vehicle, kind, month; vehicle, kind for once-in-a-life kinds;
   vehicle, campaign) make a re-run, or a run after a crash half-way, add only what is
   missing.

Dates are computed in SQL with the same formulas as ``schedule`` (months added with the
day clamped to the month's end); every value written is a literal made here from dates and
integers, never user text, so the statements take no parameters.
"""

import calendar
import datetime
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from aftersales.reminders.choices import ReminderKind
from aftersales.reminders.schedule import Step, inspection_steps, month_index, month_start

FACTS = "reminder_facts"
CANDIDATES = "reminder_candidates"
CYCLE = "reminder_cycle"
# a visit's day number times KEY plus a payload (dealer id, km + 1) is one sortable number:
# the largest per vehicle gives the last visit and its payload in one aggregate, no sort
KEY = 16_777_216
# Distances over a pace are floating-point: a whole number of days may come out a hair above
# or below it depending on the order the database summed the readings in; rounding down
# within this margin gives SQLite and PostgreSQL the same day.
EPSILON = 1e-6
KINDS = (
    ReminderKind.FIRST_SERVICE,
    ReminderKind.MAINTENANCE,
    ReminderKind.WARRANTY,
    ReminderKind.INSURANCE,
    ReminderKind.INSPECTION,
    ReminderKind.BIRTHDAY,
    ReminderKind.CAMPAIGN,
)


class Sql:
    """The date arithmetic of one database (SQLite or PostgreSQL) as SQL fragments."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def date(self, day: datetime.date) -> str:
        return f"DATE '{day.isoformat()}'" if self.pg else f"'{day.isoformat()}'"

    def timestamp(self, moment: datetime.datetime) -> str:
        if self.pg:
            return f"TIMESTAMPTZ '{moment.isoformat()}'"
        utc = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        return f"'{utc.isoformat(sep=' ')}'"

    def dn(self, day: str) -> str:
        """A day number (whole days from an epoch), ``from_dn``'s inverse."""
        if self.pg:
            return f"(({day}) - DATE '1900-01-01')"
        return f"CAST(julianday({day}) AS INTEGER)"

    def from_dn(self, n: str) -> str:
        if self.pg:
            return f"(DATE '1900-01-01' + CAST({n} AS INTEGER))"
        return f"date(({n}) + 0.5)"

    def days(self, a: str, b: str) -> str:
        """Whole days from date ``a`` to date ``b``."""
        if self.pg:
            return f"(({b}) - ({a}))"
        return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"

    def add_days(self, day: str, n: str) -> str:
        if self.pg:
            return f"(({day}) + CAST({n} AS INTEGER))"
        return f"date(julianday({day}) + ({n}))"

    def add_months(self, day: str, n: str) -> str:
        """``schedule.add_months`` in SQL: the day clamped to the target month's end."""
        if self.pg:
            return f"CAST(({day}) + make_interval(months => CAST({n} AS INTEGER)) AS DATE)"
        first = f"date({day}, 'start of month', '+' || ({n}) || ' months')"
        last_day = f"CAST(strftime('%d', date({first}, '+1 month', '-1 day')) AS INTEGER)"
        return f"date({first}, '+' || (MIN({self.day(day)}, {last_day}) - 1) || ' days')"

    def day(self, day: str) -> str:
        if self.pg:
            return f"CAST(EXTRACT(DAY FROM {day}) AS INTEGER)"
        return f"CAST(strftime('%d', {day}) AS INTEGER)"

    def month(self, day: str) -> str:
        if self.pg:
            return f"CAST(EXTRACT(MONTH FROM {day}) AS INTEGER)"
        return f"CAST(strftime('%m', {day}) AS INTEGER)"

    def month_index(self, day: str) -> str:
        if self.pg:
            return f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) * 12 + {self.month(day)} - 1)"
        return f"(CAST(strftime('%Y', {day}) AS INTEGER) * 12 + {self.month(day)} - 1)"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def floor(self, x: str) -> str:
        if self.pg:
            return f"CAST(FLOOR({x}) AS INTEGER)"
        return f"(CAST({x} AS INTEGER) - (({x}) < CAST({x} AS INTEGER)))"

    def ceil(self, x: str) -> str:
        return f"(-{self.floor(f'-({x})')})"

    def real(self, x: str) -> str:
        return f"CAST({x} AS DOUBLE PRECISION)"

    def on_conflict(self) -> str:
        return "ON CONFLICT DO NOTHING"


def _candidates_sql(dealer_id: int) -> list[str]:
    """A one-dealer run first lists the vehicles that dealer may serve (linked, visited or
    sold there) in a keyed temporary table, so the facts read only their visits and
    readings through the vehicle indexes instead of scanning every row once per dealer."""
    return [
        f"DROP TABLE IF EXISTS {CANDIDATES}",
        f"CREATE TEMPORARY TABLE {CANDIDATES} (vehicle_id BIGINT PRIMARY KEY)",
        f"""INSERT INTO {CANDIDATES} (vehicle_id)
            SELECT vehicle_id FROM crm_dealervehicle WHERE dealer_id = {dealer_id}
            UNION SELECT vehicle_id FROM crm_servicevisit WHERE dealer_id = {dealer_id}
            UNION SELECT id FROM crm_vehicle WHERE selling_dealer_id = {dealer_id}""",
        f"ANALYZE {CANDIDATES}",
    ]


def _not_the_dealers(dealer_id: int) -> str:
    return f"DELETE FROM {FACTS} WHERE dealer_id IS NULL OR dealer_id <> {dealer_id}"


def _facts_sql(sql: Sql, rules, m0: datetime.date, dealer_id: int | None) -> str:
    """The per-vehicle facts of the rules (see the module docstring)."""
    start = sql.date(m0)
    since = sql.date(m0 - datetime.timedelta(days=rules.history_days))
    if dealer_id is None:
        candidates = vehicles = ""
    else:  # the vehicles the dealer may serve, from the table ``_candidates_sql`` filled;
        # the ones another dealer serves are deleted afterwards (``_not_the_dealers``): a
        # filter on the computed dealer here would hide the row count from the planner
        ids = f"(SELECT vehicle_id FROM {CANDIDATES})"
        candidates = f"AND vehicle_id IN {ids}"
        vehicles = f"AND v.id IN {ids}"
    x = sql.real(sql.days(start, "read_on"))
    slope = "((rs.n * rs.sxy - rs.sx * rs.sy) / NULLIF(rs.n * rs.sxx - rs.sx * rs.sx, 0))"
    thin = (
        f"rs.n IS NULL OR rs.n < 2 OR {sql.days('rs.first_on', 'rs.last_on')} "
        f"< {rules.min_history_days} OR (rs.n * rs.sxx - rs.sx * rs.sx) <= 0 OR {slope} < 0"
    )
    clamped = sql.least(
        sql.greatest(slope, float(rules.min_km_per_day)), float(rules.max_km_per_day)
    )
    km_per_day = f"CASE WHEN {thin} THEN {float(rules.default_km_per_day)} ELSE {clamped} END"
    sold_on = "COALESCE(v.invoice_date, v.sale_date)"
    has_reading = "v.odometer_on IS NOT NULL AND v.odometer_km IS NOT NULL"
    visit_key = f"CAST({sql.dn('visited_on')} AS BIGINT) * {KEY}"
    last_on = sql.from_dn(f"keys.last_key / {KEY}")
    base_on = sql.from_dn(f"keys.base_key / {KEY}")
    base_km = f"(NULLIF(keys.base_key % {KEY}, 0) - 1)"
    return f"""
        CREATE TEMPORARY TABLE {FACTS} AS SELECT * FROM (
        SELECT v.id AS vehicle_id, v.owner_id AS customer_id,
          COALESCE(keys.last_key % {KEY}, v.selling_dealer_id,
            (SELECT MIN(l.dealer_id) FROM crm_dealervehicle l WHERE l.vehicle_id = v.id))
            AS dealer_id,
          (c.user_id IS NOT NULL) AS registered,
          va.vehicle_model_id AS model_id, va.model_year AS model_year,
          {sold_on} AS sold_on,
          COALESCE(v.sale_date, v.invoice_date) AS reg_on,
          m.first_service_months AS fs_months, m.first_service_km AS fs_km,
          m.service_interval_months AS si_months, m.service_interval_km AS si_km,
          {sql.add_months(sold_on, "m.first_service_months")} AS fs_t,
          {sql.month_index("COALESCE(v.sale_date, v.invoice_date)")} AS reg_mi,
          {base_on} AS base_on, {base_km} AS base_km, {last_on} AS last_visit_on,
          CASE WHEN {has_reading} THEN v.odometer_km
               WHEN {base_km} IS NOT NULL THEN {base_km} ELSE 0 END AS km_now,
          CASE WHEN {has_reading} THEN v.odometer_on
               WHEN {base_km} IS NOT NULL THEN {base_on} ELSE {sold_on} END AS km_on,
          {km_per_day} AS kmpd,
          v.warranty_end AS warranty_end, v.warranty_km AS warranty_km,
          v.insurance_expiry AS insurance_expiry, c.birthday AS birthday
        FROM crm_vehicle v
        JOIN crm_customer c ON c.id = v.owner_id AND c.merged_into_id IS NULL
        JOIN catalogue_variant va ON va.id = +v.variant_id
        JOIN catalogue_vehiclemodel m ON m.id = va.vehicle_model_id
        LEFT JOIN (
          SELECT vehicle_id,
            MAX({visit_key} + dealer_id) AS last_key,
            MAX(CASE WHEN kind = 'maintenance' THEN
                  {visit_key} + COALESCE(odometer_km + 1, 0) END) AS base_key
          FROM crm_servicevisit WHERE visited_on < {start} {candidates}
          GROUP BY vehicle_id
        ) keys ON keys.vehicle_id = v.id
        LEFT JOIN (
          SELECT vehicle_id, COUNT(*) AS n, MIN(read_on) AS first_on, MAX(read_on) AS last_on,
            SUM(x) AS sx, SUM(y) AS sy, SUM(x * x) AS sxx, SUM(x * y) AS sxy
          FROM (
            SELECT vehicle_id, read_on, {x} AS x, {sql.real("km")} AS y
            FROM crm_odometerreading
            WHERE read_on >= {since} AND read_on < {start} {candidates}
          ) readings GROUP BY vehicle_id
        ) rs ON rs.vehicle_id = v.id
        WHERE {sold_on} IS NOT NULL {vehicles}
        ) facts
    """


_COLUMNS = (
    "kind, month, due_date, trigger, due_km, on_site, vehicle_id, customer_id, dealer_id, "
    "registered, campaign_id, recall_id, status, status_at, attempts, assigned_to_id, note, "
    "return_by, returned_order_id, returned_at, created_at, updated_at"
)


class MonthlyRun:
    """The statements of one run: month, optional dealer, the rules in force."""

    def __init__(self, month: datetime.date, dealer_id: int | None, rules, steps, now):
        self.sql = Sql(connection.vendor)
        self.m0 = month_start(month)
        self.dim = calendar.monthrange(self.m0.year, self.m0.month)[1]
        self.m1 = self.m0.replace(day=self.dim)
        self.index = month_index(self.m0)
        self.dealer_id = dealer_id
        self.rules = rules
        self.steps: tuple[Step, ...] = steps
        self.now = now

    def insert(
        self,
        kind: str,
        select_from: str,
        *,
        due: str,
        trigger="''",
        due_km="CAST(NULL AS INTEGER)",
        on_site="FALSE",
        campaign="NULL",
    ) -> str:
        """``INSERT … SELECT`` of the rows of ``select_from`` (which has the facts' columns
        and the named expressions) whose due date falls in the month."""
        sql, now = self.sql, self.sql.timestamp(self.now)
        return f"""
            INSERT INTO reminders_reminder ({_COLUMNS})
            SELECT '{kind}', {sql.date(self.m0)}, due, trig, due_km, on_site, vehicle_id,
              customer_id, dealer_id, registered, {campaign}, NULL, 'open', NULL, 0, NULL, '',
              {sql.add_days("due", str(self.rules.return_window_days))}, NULL, NULL,
              {now}, {now}
            FROM (
              SELECT f.*, {due} AS due, {trigger} AS trig, {due_km} AS due_km,
                {on_site} AS on_site
              FROM {select_from} f
            ) q
            WHERE due >= {sql.date(self.m0)} AND due <= {sql.date(self.m1)}
            {sql.on_conflict()}
        """

    def km_date(self, target_km: str) -> str:
        """The day the odometer reaches ``target_km`` at the vehicle's estimated pace."""
        sql = self.sql
        return sql.add_days("km_on", sql.ceil(f"(({target_km}) - km_now) / kmpd - {EPSILON}"))

    def in_month(self, day_of_month: str) -> str:
        """The day ``day_of_month`` of the run's month, clamped to its last day."""
        return self.sql.add_days(
            self.sql.date(self.m0), f"{self.sql.least(day_of_month, str(self.dim))} - 1"
        )

    # the kinds ------------------------------------------------------------------------

    def first_service(self) -> str:
        """Vehicles without a maintenance visit: ``first_service_months`` after the invoice
        date, or the day the odometer reaches ``first_service_km``, whichever comes first."""
        sql = self.sql
        inner = f"""(SELECT f.*, fs_t AS t_due, {self.km_date("fs_km")} AS k_due
                     FROM {FACTS} f WHERE base_on IS NULL)"""
        return self.insert(
            ReminderKind.FIRST_SERVICE,
            inner,
            due=sql.least("t_due", "k_due"),
            trigger="CASE WHEN k_due < t_due THEN 'km' ELSE 'time' END",
            due_km="fs_km",
        )

    def maintenance(self) -> list[str]:
        """From the last maintenance visit (or, for a vehicle that never had one, from the
        first service it was due for): ``service_interval_months`` later or when the
        odometer has gone ``service_interval_km`` further, whichever comes first. An owner
        who does not come is reminded again every interval (by the trigger that came
        first) until ``lapsed_after_months`` after the first due date.

        The first due dates go to a temporary table first: computed once per vehicle
        rather than once per use in the final statement."""
        sql = self.sql
        b_km_est = sql.floor(f"km_now + {sql.days('km_on', 'base_on')} * kmpd")
        b_km = f"CASE WHEN base_on IS NULL THEN fs_km ELSE COALESCE(base_km, {b_km_est}) END"
        cycle = f"""
            CREATE TEMPORARY TABLE {CYCLE} AS
            SELECT vehicle_id, customer_id, dealer_id, registered, si_months,
              b_km + si_km AS target_km,
              {sql.add_months("b_on", "si_months")} AS t1,
              {self.km_date("b_km + si_km")} AS k1,
              {sql.ceil(f"si_km / kmpd - {EPSILON}")} AS step_days
            FROM (SELECT f.*, COALESCE(base_on, fs_t) AS b_on, {b_km} AS b_km
                  FROM {FACTS} f) b
        """
        first = f"""(SELECT c.*, {sql.least("t1", "k1")} AS due1,
                       CASE WHEN k1 < t1 THEN 'km' ELSE 'time' END AS trig1 FROM {CYCLE} c)"""
        m0 = sql.date(self.m0)
        lapsed_from = sql.date(self.m0.replace(day=1) - _months(self.rules.lapsed_after_months))
        by_time = (
            f"CASE WHEN ({self.index} - {sql.month_index('due1')}) % si_months = 0 "
            f"THEN {self.in_month(sql.day('due1'))} END"
        )
        gap = sql.days("due1", m0)
        by_km = sql.add_days("due1", f"{sql.ceil(f'{sql.real(gap)} / step_days')} * step_days")
        due = (
            f"CASE WHEN due1 >= {m0} THEN due1 WHEN due1 < {lapsed_from} THEN NULL "
            f"WHEN trig1 = 'time' THEN {by_time} ELSE {by_km} END"
        )
        insert = self.insert(
            ReminderKind.MAINTENANCE, first, due=due, trigger="trig1", due_km="target_km"
        )
        return [f"DROP TABLE IF EXISTS {CYCLE}", cycle, insert, f"DROP TABLE {CYCLE}"]

    def warranty(self) -> str:
        """The vehicle warranty ends on ``warranty_end`` or when the odometer reaches
        ``warranty_km``, whichever comes first."""
        sql = self.sql
        inner = f"""(SELECT f.*, warranty_end AS t_due,
                       CASE WHEN warranty_km IS NULL THEN NULL
                            ELSE {self.km_date("warranty_km")} END AS k_due
                     FROM {FACTS} f
                     WHERE warranty_end IS NOT NULL OR warranty_km IS NOT NULL)"""
        return self.insert(
            ReminderKind.WARRANTY,
            inner,
            due=(
                "CASE WHEN k_due IS NULL THEN t_due WHEN t_due IS NULL THEN k_due "
                f"ELSE {sql.least('t_due', 'k_due')} END"
            ),
            trigger="CASE WHEN k_due IS NOT NULL AND (t_due IS NULL OR k_due < t_due) "
            "THEN 'km' ELSE 'time' END",
            due_km="warranty_km",
        )

    def insurance(self) -> str:
        """Each anniversary of the insurance expiry date (policies run a year)."""
        sql = self.sql
        inner = f"""(SELECT * FROM {FACTS} WHERE insurance_expiry IS NOT NULL
                     AND {sql.month("insurance_expiry")} = {self.m0.month}
                     AND insurance_expiry <= {sql.date(self.m1)})"""
        return self.insert(
            ReminderKind.INSURANCE, inner, due=self.in_month(sql.day("insurance_expiry"))
        )

    def inspection(self) -> str:
        """Months after registration (the sale date) on the inspection schedule; due on
        the last day of the month (the mark is valid to the end of the registration
        month)."""
        sql = self.sql
        k = f"({self.index} - reg_mi)"
        conditions = []
        for step in self.steps:
            last = "" if step.last is None else f" AND {k} <= {step.last}"
            conditions.append(
                (f"({k} >= {step.first}{last} AND ({k} - {step.first}) % {step.every} = 0)",
                 step.on_site)
            )  # fmt: skip
        if not conditions:
            return ""
        due_when = " OR ".join(c for c, _ in conditions)
        on_site = "CASE " + " ".join(
            f"WHEN {c} THEN {'TRUE' if s else 'FALSE'}" for c, s in conditions
        )
        inner = f"(SELECT * FROM {FACTS} WHERE reg_on IS NOT NULL AND ({due_when}))"
        return self.insert(
            ReminderKind.INSPECTION,
            inner,
            due=sql.date(self.m1),
            on_site=f"{on_site} ELSE FALSE END",
        )

    def birthday(self) -> str:
        """The owner's birthday in the month (29 February on the 28th in other years), once
        per owner: on their vehicle with the lowest id."""
        sql = self.sql
        inner = f"""(SELECT * FROM {FACTS} f WHERE birthday IS NOT NULL
                     AND {sql.month("birthday")} = {self.m0.month}
                     AND vehicle_id = (SELECT MIN(v2.id) FROM crm_vehicle v2
                                       WHERE v2.owner_id = f.customer_id))"""
        return self.insert(ReminderKind.BIRTHDAY, inner, due=self.in_month(sql.day("birthday")))

    def campaigns(self) -> list[str]:
        """One reminder per target vehicle of each active campaign running in the month,
        due on its first day in the month."""
        from aftersales.reminders.models import Campaign

        sql = self.sql
        running = Campaign.objects.filter(
            active=True, starts_on__lte=self.m1, ends_on__gte=self.m0
        ).prefetch_related("vehicle_models", "regions")
        statements = []
        for campaign in running:
            where = [f"f.dealer_id = {campaign.dealer_id}"] if campaign.dealer_id else []
            where += _target_conditions(campaign, alias="f")
            inner = f"""(SELECT f.* FROM {FACTS} f JOIN org_dealer d ON d.id = f.dealer_id
                         WHERE {" AND ".join(where) or "TRUE"})"""
            statements.append(
                self.insert(
                    ReminderKind.CAMPAIGN,
                    inner,
                    due=sql.date(max(campaign.starts_on, self.m0)),
                    campaign=str(campaign.pk),
                )
            )
        return statements


def _months(n: int) -> datetime.timedelta:
    """Roughly ``n`` months, for a cut-off that need not be exact to the day."""
    return datetime.timedelta(days=round(n * 30.44))


def _target_conditions(campaign, *, alias: str) -> list[str]:
    """SQL conditions of a campaign's target on a facts row (``alias``) joined to its dealer
    (``d``). Every value is an integer or a date of the campaign's validated record."""
    sql = Sql(connection.vendor)
    out = []
    model_ids = [int(m.pk) for m in campaign.vehicle_models.all()]
    if model_ids:
        out.append(f"{alias}.model_id IN ({', '.join(map(str, model_ids))})")
    years = [int(y) for y in campaign.model_years or []]
    if years:
        out.append(f"{alias}.model_year IN ({', '.join(map(str, years))})")
    region_ids = [int(r.pk) for r in campaign.regions.all()]
    if region_ids:
        out.append(f"d.region_id IN ({', '.join(map(str, region_ids))})")
    if campaign.last_visit_before:
        out.append(
            f"({alias}.last_visit_on IS NULL OR "
            f"{alias}.last_visit_on < {sql.date(campaign.last_visit_before)})"
        )
    return out


def reminders_for_month(
    month: datetime.date,
    dealer=None,
    *,
    progress: Callable[[str, int], None] | None = None,
    now: datetime.datetime | None = None,
) -> dict[str, int]:
    """Write the reminders due in ``month`` (any day of it) for every vehicle, or for the
    vehicles of ``dealer``; returns the rows added per kind. Idempotent: a re-run adds only
    what is missing. One transaction: a crash leaves nothing half-written."""
    from aftersales.reminders.models import ReminderRun, ReminderSettings

    dealer_id = getattr(dealer, "pk", dealer)
    run = MonthlyRun(
        month,
        int(dealer_id) if dealer_id is not None else None,
        ReminderSettings.current(),
        inspection_steps(),
        now or timezone.now(),
    )
    record = ReminderRun.objects.create(
        month=run.m0, dealer_id=run.dealer_id, started_at=timezone.now()
    )
    added: dict[str, int] = {}
    statements = [
        (ReminderKind.FIRST_SERVICE, run.first_service()),
        (ReminderKind.MAINTENANCE, run.maintenance()),
        (ReminderKind.WARRANTY, run.warranty()),
        (ReminderKind.INSURANCE, run.insurance()),
        (ReminderKind.INSPECTION, run.inspection()),
        (ReminderKind.BIRTHDAY, run.birthday()),
    ] + [(ReminderKind.CAMPAIGN, s) for s in run.campaigns()]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if run.dealer_id is not None:
                for statement in _candidates_sql(run.dealer_id):
                    cursor.execute(statement)
            cursor.execute(f"DROP TABLE IF EXISTS {FACTS}")
            cursor.execute(_facts_sql(run.sql, run.rules, run.m0, run.dealer_id))
            if run.dealer_id is not None:
                cursor.execute(_not_the_dealers(run.dealer_id))
            if progress:
                progress("facts", 0)
            for kind, statement in statements:
                for part in [statement] if isinstance(statement, str) else statement:
                    if not part:
                        continue
                    cursor.execute(part)
                    if part.lstrip().startswith("INSERT"):
                        added[kind] = added.get(kind, 0) + max(cursor.rowcount, 0)
                if progress:
                    progress(kind, added.get(kind, 0))
            if progress and ReminderKind.CAMPAIGN not in added:
                progress(ReminderKind.CAMPAIGN, 0)  # no campaign running: the last step
            cursor.execute(f"DROP TABLE {FACTS}")
            if run.dealer_id is not None:
                cursor.execute(f"DROP TABLE {CANDIDATES}")
    except Exception as error:
        ReminderRun.objects.filter(pk=record.pk).update(
            finished_at=timezone.now(), error=repr(error)[:2000]
        )
        raise
    ReminderRun.objects.filter(pk=record.pk).update(finished_at=timezone.now(), added=added)
    return added
