"""The demo labour catalogue and workshop set-up: ~40 labour operations of the OEM with
standard hours (and model-specific times for the bigger and the electric models),
maintenance packages per model and interval built from the demo parts catalogue, and for
every demo dealer its labour rates, work bays and service settings.

Written with ``bulk_create``; idempotent: rows that exist (by their unique keys) are left
alone, so a second run adds nothing.
"""

import time
from decimal import Decimal

from django.db import transaction

from aftersales.workorders.choices import BayKind, OperationCategory, PayType, WarrantyScope

DEMO_DEALERS = ["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
C = OperationCategory

# code, Chinese name, English name, category, standard hours
OPERATIONS = [
    ("M0101", "更换机油机滤", "Change engine oil and oil filter", C.MAINTENANCE, "0.6"),
    ("M0102", "更换空气滤清器", "Replace air filter", C.MAINTENANCE, "0.2"),
    ("M0103", "更换空调滤清器", "Replace cabin air filter", C.MAINTENANCE, "0.3"),
    ("M0104", "更换火花塞", "Replace spark plugs", C.MAINTENANCE, "0.8"),
    ("M0105", "更换制动液", "Replace brake fluid", C.MAINTENANCE, "0.8"),
    ("M0106", "更换冷却液", "Replace coolant", C.MAINTENANCE, "1.0"),
    ("M0107", "更换自动变速箱油", "Replace automatic gearbox fluid", C.MAINTENANCE, "1.2"),
    ("M0108", "首次保养检查", "First service inspection", C.MAINTENANCE, "0.5"),
    ("M0109", "定期保养多项检查", "Multi-point service inspection", C.MAINTENANCE, "0.5"),
    ("M0110", "四轮换位", "Rotate tyres", C.MAINTENANCE, "0.4"),
    ("M0111", "更换雨刮片", "Replace wiper blades", C.MAINTENANCE, "0.1"),
    ("M0112", "更换电池冷却液", "Replace battery coolant", C.MAINTENANCE, "1.5"),
    ("D0101", "故障诊断（电脑检测）", "Fault diagnosis (scan tool)", C.DIAGNOSIS, "0.5"),
    ("D0102", "异响路试诊断", "Noise diagnosis with road test", C.DIAGNOSIS, "0.8"),
    ("D0103", "电气故障诊断", "Electrical fault diagnosis", C.DIAGNOSIS, "1.0"),
    ("E0101", "更换点火线圈", "Replace ignition coil", C.ENGINE, "0.5"),
    ("E0102", "更换水泵", "Replace water pump", C.ENGINE, "2.5"),
    ("E0103", "更换节温器", "Replace thermostat", C.ENGINE, "1.2"),
    ("E0104", "更换发动机悬置", "Replace engine mount", C.ENGINE, "1.5"),
    ("E0105", "清洗节气门", "Clean throttle body", C.ENGINE, "0.6"),
    ("E0106", "更换离合器片", "Replace clutch disc", C.ENGINE, "4.5"),
    ("E0107", "更换爆震传感器", "Replace knock sensor", C.ENGINE, "0.8"),
    ("C0101", "更换前刹车片", "Replace front brake pads", C.CHASSIS, "1.0"),
    ("C0102", "更换后刹车片", "Replace rear brake pads", C.CHASSIS, "1.0"),
    ("C0103", "更换前刹车盘", "Replace front brake discs", C.CHASSIS, "1.5"),
    ("C0104", "四轮定位", "Four-wheel alignment", C.CHASSIS, "1.0"),
    ("C0105", "更换前减震器", "Replace front shock absorbers", C.CHASSIS, "2.0"),
    ("C0106", "更换前下摆臂", "Replace front lower control arm", C.CHASSIS, "1.2"),
    ("C0107", "更换稳定杆连杆", "Replace stabiliser links", C.CHASSIS, "0.6"),
    ("C0108", "更换前轮轴承", "Replace front wheel bearing", C.CHASSIS, "1.8"),
    ("L0101", "更换 12V 蓄电池", "Replace 12 V battery", C.ELECTRICAL, "0.4"),
    ("L0102", "更换大灯总成", "Replace headlamp assembly", C.ELECTRICAL, "1.2"),
    ("L0103", "更换发电机", "Replace alternator", C.ELECTRICAL, "1.8"),
    ("L0104", "软件升级", "Software update", C.ELECTRICAL, "0.5"),
    ("L0105", "更换倒车雷达探头", "Replace parking sensor", C.ELECTRICAL, "0.6"),
    ("B0101", "前保险杠拆装", "Remove and refit front bumper", C.BODY, "1.5"),
    ("B0102", "单面喷漆", "Paint one panel", C.BODY, "3.0"),
    ("B0103", "更换前挡风玻璃", "Replace windscreen", C.BODY, "2.0"),
    ("B0104", "钣金修复（小）", "Panel repair (small)", C.BODY, "2.0"),
    ("H0101", "高压系统绝缘检测", "High-voltage insulation test", C.HV, "1.0"),
    ("H0102", "更换车载充电机", "Replace on-board charger", C.HV, "2.5"),
    ("H0103", "更换交流充电口", "Replace AC charging inlet", C.HV, "1.5"),
    ("H0104", "电池包冷却系统检修", "Service battery cooling system", C.HV, "3.0"),
    ("O0101", "空调系统加注冷媒", "Recharge air-conditioning refrigerant", C.OTHER, "0.8"),
    ("O0102", "室内清洁消毒", "Interior cleaning and disinfection", C.OTHER, "1.0"),
]
# operations whose job needs a special bay besides their category's usual one
BAY_KIND = {"C0104": BayKind.ALIGNMENT, "B0102": BayKind.PAINT}
SCOPE = {C.MAINTENANCE: WarrantyScope.NONE, C.ENGINE: WarrantyScope.POWERTRAIN}
SCOPE[C.HV] = WarrantyScope.POWERTRAIN

# model-specific standard hours: bigger cars take longer, electric ones have no engine bay
MODEL_FACTORS = {"X7": Decimal("1.2"), "M8": Decimal("1.3"), "E9": Decimal("1.2")}
TIMED_OPERATIONS = ["M0101", "C0101", "C0102", "C0103", "C0105", "B0101", "L0102", "H0104"]

# interval (km) -> (operations, [(part English name pattern, quantity)]) per power line
ICE_PACKAGE = {
    5_000: (["M0108", "M0101"], [("oil", 1), ("washer", 1), ("oil_filter", 1)]),
    10_000: (["M0109", "M0101", "M0110"], [("oil", 1), ("washer", 1), ("oil_filter", 1)]),
    20_000: (
        ["M0109", "M0101", "M0102", "M0103", "M0110"],
        [("oil", 1), ("washer", 1), ("oil_filter", 1), ("air_filter", 1), ("cabin_filter", 1)],
    ),
    40_000: (
        ["M0109", "M0101", "M0102", "M0103", "M0104", "M0105", "M0110"],
        [
            ("oil", 1),
            ("washer", 1),
            ("oil_filter", 1),
            ("air_filter", 1),
            ("cabin_filter", 1),
            ("spark_plug", 4),
            ("brake_fluid", 1),
        ],
    ),
}
BEV_PACKAGE = {
    10_000: (["M0108", "M0110"], [("cabin_filter", 1)]),
    20_000: (["M0109", "M0103", "M0110"], [("cabin_filter", 1), ("screen_wash", 1)]),
    40_000: (
        ["M0109", "M0103", "M0105", "M0112", "H0101"],
        [("cabin_filter", 1), ("brake_fluid", 1), ("battery_coolant", 1)],
    ),
}
UNIVERSAL_PARTS = {
    "oil": "Synthetic engine oil 0W-20 4 L",
    "washer": "Drain plug washer",
    "brake_fluid": "Brake fluid DOT4 1 L",
    "screen_wash": "Screen wash 2 L",
    "battery_coolant": "Battery coolant 4 L",
}
MODEL_PARTS = {
    "oil_filter": "Oil filter",
    "air_filter": "Air filter element",
    "cabin_filter": "Cabin air filter",
    "spark_plug": "Iridium spark plug",
}
BEV_MODELS = {"E3", "E6"}

RATES = {  # customer, warranty, insurance, internal per hour
    "BJ01": ("180", "150", "200", "100"),
    "SH01": ("180", "150", "200", "100"),
    "SZ01": ("170", "150", "190", "100"),
    "GZ01": ("160", "140", "180", "90"),
    "HZ01": ("160", "140", "180", "90"),
    "TJ01": ("150", "130", "170", "90"),
}
BAYS = [
    ("B01", "快修 1 号工位", BayKind.QUICK),
    ("B02", "快修 2 号工位", BayKind.QUICK),
    ("B03", "机修 3 号工位", BayKind.GENERAL),
    ("B04", "机修 4 号工位", BayKind.GENERAL),
    ("B05", "机修 5 号工位", BayKind.GENERAL),
    ("B06", "四轮定位工位", BayKind.ALIGNMENT),
    ("B07", "新能源高压工位", BayKind.EV),
    ("B08", "钣喷工位", BayKind.BODY),
]
# the smaller stores have 6 or 7 bays
SMALLER_STORE_LACKS = {"TJ01": ("B05", "B08"), "HZ01": ("B05",), "GZ01": ("B05",), "SZ01": ("B08",)}
FOLLOW_UP = {  # dealer -> (opens after h, due within h): bigger stores call sooner
    "BJ01": (24, 48),
    "SH01": (24, 48),
}


def _package_parts(models):
    """Part ids by (key, model code): universal parts by name, model parts by the name the
    parts demo gives them ("<English name> <model code>[ <engine>]")."""
    from aftersales.parts.models import Part

    names = list(UNIVERSAL_PARTS.values())
    rows = Part.objects.filter(active=True, superseded_by__isnull=True).filter(
        name_en__in=names
    ) | Part.objects.filter(active=True, superseded_by__isnull=True).filter(
        name_en__regex=r"^(Oil filter|Air filter element|Cabin air filter|Iridium spark plug) "
    )
    by_name = {}
    for name_en, pk in rows.order_by("number").values_list("name_en", "pk"):
        by_name.setdefault(name_en, pk)
    found = {}
    for key, name in UNIVERSAL_PARTS.items():
        if name in by_name:
            for code in models:
                found[(key, code)] = by_name[name]
    for key, name in MODEL_PARTS.items():
        for code in models:
            exact = by_name.get(f"{name} {code}")
            if exact is None:  # engine-specific (spark plugs): the first engine line
                exact = next(
                    (pk for n, pk in sorted(by_name.items()) if n.startswith(f"{name} {code} ")),
                    None,
                )
            if exact is not None:
                found[(key, code)] = exact
    return found


@transaction.atomic
def load_workorders_catalogue_demo(stdout=None) -> dict:
    """Load the demo labour catalogue, packages and dealer set-up (after the org, the
    vehicle catalogue and the parts catalogue). Idempotent."""
    from aftersales.catalogue.models import VehicleModel
    from aftersales.org.models import Dealer
    from aftersales.workorders.models import (
        LabourOperation,
        LabourRate,
        LabourTime,
        MaintenancePackage,
        PackageOperation,
        PackagePart,
        ServiceSettings,
        WorkshopBay,
    )

    started = time.perf_counter()
    result = {}
    have = set(LabourOperation.objects.values_list("code", flat=True))
    new = LabourOperation.objects.bulk_create(
        [
            LabourOperation(
                code=code,
                name=zh,
                name_en=en,
                category=category,
                warranty_scope=SCOPE.get(category, WarrantyScope.VEHICLE),
                default_hours=Decimal(hours),
                bay_kind=BAY_KIND.get(code, ""),
            )
            for code, zh, en, category, hours in OPERATIONS
            if code not in have
        ]
    )
    result["operations"] = len(new)
    # operations loaded before they said which bay they need (never overrides an edit)
    for code, kind in BAY_KIND.items():
        LabourOperation.objects.filter(code=code, bay_kind="").update(bay_kind=kind)
    ops = {o.code: o for o in LabourOperation.objects.filter(code__in=[r[0] for r in OPERATIONS])}
    models = {m.code: m for m in VehicleModel.objects.all()}

    # standard times per model
    have_times = set(
        LabourTime.objects.filter(variant__isnull=True).values_list(
            "operation_id", "vehicle_model_id"
        )
    )
    times = []
    for code, factor in MODEL_FACTORS.items():
        model = models.get(code)
        if model is None:
            continue
        for op_code in TIMED_OPERATIONS:
            op = ops[op_code]
            if (op.pk, model.pk) not in have_times:
                hours = (op.default_hours * factor).quantize(Decimal("0.1"))
                times.append(LabourTime(operation=op, vehicle_model=model, hours=hours))
    for code in BEV_MODELS & set(models):
        op = ops["M0103"]
        if (op.pk, models[code].pk) not in have_times:
            times.append(LabourTime(operation=op, vehicle_model=models[code], hours=Decimal("0.2")))
    LabourTime.objects.bulk_create(times)
    result["labour_times"] = len(times)

    # maintenance packages per model and interval
    parts = _package_parts(models)
    have_packages = set(MaintenancePackage.objects.values_list("code", flat=True))
    packages, contents = [], []
    for code, model in sorted(models.items()):
        plan = BEV_PACKAGE if code in BEV_MODELS else ICE_PACKAGE
        for interval, (op_codes, part_keys) in sorted(plan.items()):
            if interval < model.first_service_km:
                continue
            package_code = f"PKG-{code}-{interval // 1000:02d}K"
            if package_code in have_packages:
                continue
            first = interval == model.first_service_km
            name = f"{model.name} {interval:,} 公里{'首次' if first else '定期'}保养"
            package = MaintenancePackage(
                code=package_code,
                name=name,
                name_en=f"{code} {interval:,} km {'first' if first else 'regular'} service",
                vehicle_model=model,
                interval_km=interval,
                interval_months=model.service_interval_months if not first else 6,
            )
            packages.append(package)
            contents.append((package, op_codes, part_keys, code))
    MaintenancePackage.objects.bulk_create(packages)
    PackageOperation.objects.bulk_create(
        [
            PackageOperation(package=package, operation=ops[op_code])
            for package, op_codes, _parts, _code in contents
            for op_code in op_codes
        ]
    )
    PackagePart.objects.bulk_create(
        [
            PackagePart(package=package, part_id=parts[(key, code)], quantity=Decimal(quantity))
            for package, _ops, part_keys, code in contents
            for key, quantity in part_keys
            if (key, code) in parts
        ]
    )
    result["packages"] = len(packages)

    # dealer set-up: rates, bays, settings
    dealers = list(Dealer.objects.filter(code__in=DEMO_DEALERS))
    have_rates = set(LabourRate.objects.values_list("dealer_id", "pay_type"))
    pay_types = [PayType.CUSTOMER, PayType.WARRANTY, PayType.INSURANCE, PayType.INTERNAL]
    rates = [
        LabourRate(dealer=d, pay_type=pay_type, rate=Decimal(rate))
        for d in dealers
        for pay_type, rate in zip(pay_types, RATES[d.code], strict=True)
        if (d.pk, pay_type) not in have_rates
    ]
    LabourRate.objects.bulk_create(rates)
    have_bays = set(WorkshopBay.objects.values_list("dealer_id", "code"))
    bays = [
        WorkshopBay(dealer=d, code=code, name=name, kind=kind)
        for d in dealers
        for code, name, kind in BAYS
        if code not in SMALLER_STORE_LACKS.get(d.code, ()) and (d.pk, code) not in have_bays
    ]
    WorkshopBay.objects.bulk_create(bays)
    have_settings = set(ServiceSettings.objects.values_list("dealer_id", flat=True))
    settings_rows = []
    for d in dealers:
        if d.pk in have_settings:
            continue
        opens, due = FOLLOW_UP.get(d.code, (24, 72))
        settings_rows.append(
            ServiceSettings(
                dealer=d,
                follow_up_after_hours=opens,
                follow_up_due_hours=due,
                workday_start=d.opens_at,
                workday_end=d.closes_at,
            )
        )
    ServiceSettings.objects.bulk_create(settings_rows)
    result.update(
        rates=len(rates),
        bays=len(bays),
        settings=len(settings_rows),
        seconds=round(time.perf_counter() - started, 2),
    )
    if stdout is not None:
        stdout.write(f"workorders catalogue: {result}\n")
    return result
