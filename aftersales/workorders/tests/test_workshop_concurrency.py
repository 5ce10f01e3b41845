"""One open clock per technician under a real race: two threads, each with its own
database connection, clock the same technician on two different jobs at once. Exactly one
wins; the other is refused with the same 409 as the ordinary check (on PostgreSQL the
database constraint ``workorders_one_open_clock`` settles it when both checks passed).
Run on PostgreSQL with ``AFTERSALES_TEST_DATABASE=postgresql``."""

import threading

import pytest
from django.db import connection

from aftersales.core.errors import Conflict
from aftersales.org.demo import load_org_demo
from aftersales.org.models import Dealer, User
from aftersales.workorders import workshop
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import ClockEntry
from aftersales.workorders.testing import labour_line, make_repair_order

S = ROStatus
ROUNDS = 3


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_clock_ons_leave_one_open_clock():
    # given a technician assigned to jobs on separate orders, committed
    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    foreman = User.objects.get(username="bj01-foreman")
    tech_pk = User.objects.get(username="bj01-tech").pk
    for round_ in range(ROUNDS):
        jobs = []
        for _ in range(2):
            order = make_repair_order(dealer=bj01, status=S.APPROVED)
            jobs.append(
                workshop.job_assign(
                    actor=foreman,
                    line=labour_line(order),
                    technicians=[tech_pk],
                    version=order.version,
                )
            )
        start = threading.Barrier(2)
        outcomes: list = []
        lock = threading.Lock()

        def worker(job, start=start, lock=lock, outcomes=outcomes):
            try:
                tech = User.objects.get(pk=tech_pk)
                start.wait(timeout=30)
                try:
                    workshop.clock_on(actor=tech, line=job)
                    result = "ok"
                except Conflict as exc:
                    result = exc.code
                with lock:
                    outcomes.append(result)
            finally:
                connection.close()

        # when both jobs are clocked on at the same moment
        threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # then one succeeds, the other is refused as "clocked on", one clock is open
        assert sorted(outcomes) == ["clocked_on", "ok"], outcomes
        open_entries = ClockEntry.objects.filter(technician_id=tech_pk, ended_at__isnull=True)
        assert open_entries.count() == 1
        running = open_entries.get()
        # the refused job's order did not start either
        loser = next(job for job in jobs if job.pk != running.line_id)
        loser.repair_order.refresh_from_db()
        assert loser.repair_order.status == S.APPROVED, round_
        workshop.clock_off(actor=User.objects.get(pk=tech_pk), line=running.line, reason="finished")
