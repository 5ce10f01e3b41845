"""The rules every day plan keeps, checked on a solution (shared by the optimiser tests)."""

from aftersales.appointments.optimiser import work_minutes


def check_rules(problem, solution, *, fixed_in_windows=True):
    """Every rule of a plan: a job starts in a window of its technician, works its
    duration in the windows and may pause only over a break; its bay is of its kind; it
    starts after the jobs it follows; the technician, the bay (the car on it) and the car
    are taken from start to end. A pinned or started job (``fixed``) may lie outside the
    windows when ``fixed_in_windows`` is false (a job clocked on before the shift)."""
    jobs = {j.key: j for j in problem.jobs}
    techs = {t.id: t for t in problem.technicians}
    kinds = {b.id: b.kind for b in problem.bays}
    spans = {}
    for key, (t, b, start, end) in solution.assignments.items():
        job, person = jobs[key], techs[t]
        assert start >= job.release and end <= problem.horizon
        assert person.can_do(job)
        assert end == person.finish(start, job.duration)
        if job.fixed is None or fixed_in_windows:
            assert any(a <= start <= z for a, z, _p in person.segments(job.duration, 10**6))
            worked = sum(max(0, min(end, e) - max(start, s)) for s, e in person.windows)
            assert worked == job.duration == work_minutes(person.breaks, start, end)
        assert kinds[b] in {"quick": ("quick", "general")}.get(job.bay_kind, (job.bay_kind,))
        for before in job.after:
            assert solution.assignments[before][3] <= start
        for resource in (("t", t), ("b", b), ("g", job.group)):
            spans.setdefault(resource, []).append((start, end))
    for resource, items in spans.items():
        items.sort()
        for (_s1, e1), (s2, _e2) in zip(items, items[1:], strict=False):
            assert e1 <= s2, resource
