"""Demo organisation: one OEM, 3 regions, 6 dealers and a user for every role at every
unit. Idempotent: existing rows are kept, missing ones are added."""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from aftersales.org.models import Dealer, Oem, Region, RoleAssignment, User
from aftersales.org.roles import ROLE_LEVEL, Level, Role

DEMO_PASSWORD = "demo-2026"

REGIONS = [
    ("NORTH", "华北大区", [("BJ01", "北京星驰望京店", "北京"), ("TJ01", "天津星驰滨海店", "天津")]),
    ("EAST", "华东大区", [("SH01", "上海星驰浦东店", "上海"), ("HZ01", "杭州星驰西湖店", "杭州")]),
    ("SOUTH", "华南大区", [("GZ01", "广州星驰天河店", "广州"), ("SZ01", "深圳星驰南山店", "深圳")]),
]

# Short login names per role: <dealer code>-<short>, e.g. bj01-sa.
SHORT = {
    Role.SERVICE_ADVISOR: "sa",
    Role.TECHNICIAN: "tech",
    Role.FOREMAN: "foreman",
    Role.QC_INSPECTOR: "qc",
    Role.PARTS_CLERK: "parts",
    Role.CASHIER: "cashier",
    Role.DCRC_AGENT: "dcrc",
    Role.DCRC_MANAGER: "dcrcmgr",
    Role.SERVICE_MANAGER: "svcmgr",
    Role.DEALER_ADMIN: "admin",
    Role.REGION_MANAGER: "rm",
    Role.CS_AGENT: "csagent",
    Role.COMPLAINT_SPECIALIST: "complaint",
    Role.TECH_SUPPORT: "techsupport",
    Role.LEGAL: "legal",
    Role.MARKETING_PR: "pr",
    Role.ANALYST: "analyst",
    Role.OEM_ADMIN: "admin",
}


def demo_logins():
    """(username, role label, unit) rows, for the start-up banner and docs."""
    rows = [("admin", "superuser", "—")]
    for role in Role:
        if ROLE_LEVEL[role] == Level.OEM:
            rows.append((f"oem-{SHORT[role]}", role.label, "OEM"))
    for code, _name, dealers in REGIONS:
        rows.append((f"{code.lower()}-rm", Role.REGION_MANAGER.label, code))
        for dcode, _dn, _city in dealers:
            for role in Role:
                if ROLE_LEVEL[role] == Level.DEALER:
                    rows.append((f"{dcode.lower()}-{SHORT[role]}", role.label, dcode))
    return rows


@transaction.atomic
def load_org_demo(stdout=None):
    password = make_password(DEMO_PASSWORD)  # hash once: every demo login shares it
    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "星驰汽车"})
    users, assignments = [], []
    seq = iter(range(1, 10_000))

    def person(username, display, dealer=None, region=None, is_staff=False):
        n = next(seq)
        users.append(
            User(
                username=username,
                display_name=display,
                mobile=f"1380000{n:04d}",
                dealer=dealer,
                region=region,
                password=password,
                is_staff=is_staff,
                email=f"{username}@demo.invalid",
            )
        )
        return username

    person("admin", "系统管理员", is_staff=True)
    for role in Role:
        if ROLE_LEVEL[role] == Level.OEM:
            name = person(
                f"oem-{SHORT[role]}", f"主机厂{role.label}", is_staff=role == Role.OEM_ADMIN
            )
            assignments.append((name, role, None, None))
    for code, rname, dealers in REGIONS:
        region, _ = Region.objects.get_or_create(code=code, defaults={"oem": oem, "name": rname})
        name = person(f"{code.lower()}-rm", f"{rname}经理", region=region)
        assignments.append((name, Role.REGION_MANAGER, region, None))
        for dcode, dname, city in dealers:
            dealer, _ = Dealer.objects.get_or_create(
                code=dcode,
                defaults={"region": region, "name": dname, "city": city, "phone": "400-800-0000"},
            )
            for role in Role:
                if ROLE_LEVEL[role] == Level.DEALER:
                    name = person(
                        f"{dcode.lower()}-{SHORT[role]}", f"{city}{role.label}", dealer=dealer
                    )
                    assignments.append((name, role, None, dealer))

    existing = set(User.objects.values_list("username", flat=True))
    User.objects.bulk_create([u for u in users if u.username not in existing])
    User.objects.filter(username="admin").update(is_superuser=True, is_staff=True)
    by_name = dict(User.objects.values_list("username", "id"))
    have = set(RoleAssignment.objects.values_list("user_id", "role", "region_id", "dealer_id"))
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user_id=by_name[n], role=r, region=reg, dealer=d)
            for n, r, reg, d in assignments
            if (by_name[n], r, reg and reg.id, d and d.id) not in have
        ]
    )
    return {"users": User.objects.count(), "dealers": Dealer.objects.count()}
