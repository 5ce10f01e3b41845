"""The demo parts catalogue: about 800 parts in 12 categories for the 星驰 models of
``aftersales/catalogue/demo.py``, with prices, barcodes, part warranties, supersession
chains and fitments by model, variant and model year. Deterministic and idempotent: a
second run adds nothing."""

import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

CATEGORIES = [
    ("OIL", "机油", "Engine oil"),
    ("FILTER", "滤清器", "Filters"),
    ("BRAKE", "制动", "Brakes"),
    ("IGNITION", "点火", "Ignition"),
    ("ELECTRIC", "电气", "Electrical"),
    ("SUSPENSION", "悬挂", "Suspension"),
    ("BODY", "车身", "Body"),
    ("AC", "空调", "Air conditioning"),
    ("COOLING", "冷却", "Cooling"),
    ("DRIVELINE", "传动", "Driveline"),
    ("NEV", "新能源", "New-energy"),
    ("ACCESSORY", "附件", "Accessories"),
]

# category, Chinese name, English name, unit, list price, wear part, warranty months, scope
# scope: "all" (universal: fits every vehicle), "model" (one part per model), "engine"
# (per engine line: ICE only), "nev" (per new-energy model), "ice" (per ICE model)
TEMPLATES = [
    (
        "OIL",
        "全合成机油 0W-20 4L",
        "Synthetic engine oil 0W-20 4 L",
        "btl",
        398,
        0,
        0,
        "universal",
    ),
    (
        "OIL",
        "全合成机油 5W-30 4L",
        "Synthetic engine oil 5W-30 4 L",
        "btl",
        358,
        0,
        0,
        "universal",
    ),
    (
        "OIL",
        "全合成机油 5W-40 1L",
        "Synthetic engine oil 5W-40 1 L",
        "btl",
        98,
        0,
        0,
        "universal",
    ),
    (
        "OIL",
        "自动变速箱油 ATF 1L",
        "Automatic gearbox fluid ATF 1 L",
        "btl",
        128,
        0,
        0,
        "universal",
    ),
    (
        "OIL",
        "双离合变速箱油 1L",
        "Dual-clutch gearbox fluid 1 L",
        "btl",
        138,
        0,
        0,
        "universal",
    ),
    ("OIL", "制动液 DOT4 1L", "Brake fluid DOT4 1 L", "btl", 86, 0, 0, "all"),
    ("OIL", "玻璃清洗液 2L", "Screen wash 2 L", "btl", 25, 0, 0, "all"),
    ("OIL", "放油螺栓垫圈", "Drain plug washer", "pc", 6, 0, 0, "all"),
    ("FILTER", "机油滤清器", "Oil filter", "pc", 68, 1, 0, "ice"),
    ("FILTER", "空气滤清器滤芯", "Air filter element", "pc", 118, 1, 0, "ice"),
    ("FILTER", "空调滤清器滤芯", "Cabin air filter", "pc", 98, 1, 0, "model"),
    ("FILTER", "燃油滤清器", "Fuel filter", "pc", 158, 1, 0, "ice"),
    ("FILTER", "活性炭空调滤芯", "Activated-carbon cabin filter", "pc", 168, 1, 0, "model"),
    ("BRAKE", "前刹车片（套）", "Front brake pads (set)", "set", 468, 1, 0, "model"),
    ("BRAKE", "后刹车片（套）", "Rear brake pads (set)", "set", 398, 1, 0, "model"),
    ("BRAKE", "前刹车盘", "Front brake disc", "pc", 588, 1, 0, "model"),
    ("BRAKE", "后刹车盘", "Rear brake disc", "pc", 498, 1, 0, "model"),
    (
        "BRAKE",
        "前制动卡钳总成（左）",
        "Front brake caliper (left)",
        "pc",
        1280,
        0,
        24,
        "model",
    ),
    ("BRAKE", "刹车片磨损报警线", "Brake pad wear sensor", "pc", 88, 1, 0, "model"),
    ("BRAKE", "驻车制动电机", "Electric parking brake motor", "pc", 1580, 0, 24, "model"),
    ("IGNITION", "铱金火花塞", "Iridium spark plug", "pc", 118, 1, 0, "engine"),
    ("IGNITION", "点火线圈", "Ignition coil", "pc", 468, 0, 24, "engine"),
    ("IGNITION", "爆震传感器", "Knock sensor", "pc", 358, 0, 24, "engine"),
    ("IGNITION", "凸轮轴位置传感器", "Camshaft position sensor", "pc", 298, 0, 24, "engine"),
    ("ELECTRIC", "12V 蓄电池 60Ah", "12 V battery 60 Ah", "pc", 780, 1, 12, "ice"),
    ("ELECTRIC", "12V 辅助蓄电池", "12 V auxiliary battery", "pc", 980, 1, 12, "nev"),
    ("ELECTRIC", "前雨刮片（对）", "Front wiper blades (pair)", "pair", 168, 1, 0, "model"),
    ("ELECTRIC", "后雨刮片", "Rear wiper blade", "pc", 78, 1, 0, "model"),
    ("ELECTRIC", "LED 大灯总成（左）", "LED headlamp assembly (left)", "pc", 3680, 0, 24, "model"),
    ("ELECTRIC", "LED 大灯总成（右）", "LED headlamp assembly (right)", "pc", 3680, 0, 24, "model"),
    ("ELECTRIC", "尾灯总成（左）", "Tail lamp assembly (left)", "pc", 1280, 0, 24, "model"),
    ("ELECTRIC", "H7 卤素灯泡", "H7 halogen bulb", "pc", 45, 1, 0, "all"),
    ("ELECTRIC", "W5W 示宽灯泡", "W5W side-light bulb", "pc", 12, 1, 0, "all"),
    ("ELECTRIC", "发电机总成", "Alternator assembly", "pc", 2380, 0, 24, "ice"),
    ("ELECTRIC", "起动机总成", "Starter motor assembly", "pc", 1980, 0, 24, "ice"),
    ("SUSPENSION", "前减震器（左）", "Front shock absorber (left)", "pc", 860, 0, 24, "model"),
    ("SUSPENSION", "前减震器（右）", "Front shock absorber (right)", "pc", 860, 0, 24, "model"),
    ("SUSPENSION", "后减震器", "Rear shock absorber", "pc", 720, 0, 24, "model"),
    ("SUSPENSION", "前下摆臂（左）", "Front lower control arm (left)", "pc", 680, 0, 24, "model"),
    ("SUSPENSION", "稳定杆连杆", "Stabiliser link", "pc", 158, 0, 12, "model"),
    ("SUSPENSION", "前轮轴承", "Front wheel bearing", "pc", 420, 0, 24, "model"),
    ("BODY", "前保险杠皮", "Front bumper cover", "pc", 1680, 0, 12, "model"),
    ("BODY", "后保险杠皮", "Rear bumper cover", "pc", 1580, 0, 12, "model"),
    ("BODY", "发动机盖", "Bonnet", "pc", 2280, 0, 12, "model"),
    ("BODY", "左前翼子板", "Front wing (left)", "pc", 980, 0, 12, "model"),
    ("BODY", "外后视镜总成（左）", "Door mirror assembly (left)", "pc", 1380, 0, 24, "model"),
    ("BODY", "前挡风玻璃", "Windscreen", "pc", 2680, 0, 12, "model"),
    ("BODY", "中网总成", "Front grille assembly", "pc", 1180, 0, 12, "model"),
    ("AC", "空调压缩机", "Air-conditioning compressor", "pc", 4280, 0, 24, "ice"),
    ("AC", "电动空调压缩机", "Electric air-conditioning compressor", "pc", 6880, 0, 36, "nev"),
    ("AC", "冷凝器", "Condenser", "pc", 1380, 0, 24, "model"),
    ("AC", "鼓风机电机", "Blower motor", "pc", 680, 0, 24, "model"),
    ("AC", "R1234yf 冷媒 500g", "Refrigerant R1234yf 500 g", "btl", 380, 0, 0, "all"),
    (
        "COOLING",
        "长效冷却液 -35℃ 4L",
        "Long-life coolant -35 °C 4 L",
        "btl",
        128,
        0,
        0,
        "universal",
    ),
    ("COOLING", "水泵总成", "Water pump assembly", "pc", 880, 0, 24, "engine"),
    ("COOLING", "节温器", "Thermostat", "pc", 268, 0, 24, "engine"),
    ("COOLING", "散热器总成", "Radiator assembly", "pc", 1480, 0, 24, "model"),
    ("COOLING", "电子风扇总成", "Electric cooling fan assembly", "pc", 1280, 0, 24, "model"),
    ("DRIVELINE", "离合器片", "Clutch disc", "pc", 980, 1, 0, "engine"),
    ("DRIVELINE", "前驱动轴总成（左）", "Front drive shaft (left)", "pc", 1680, 0, 24, "model"),
    ("DRIVELINE", "驱动轴防尘套", "CV joint boot", "pc", 128, 0, 12, "model"),
    ("DRIVELINE", "发动机悬置（右）", "Engine mount (right)", "pc", 560, 0, 24, "engine"),
    ("DRIVELINE", "减速器油 1L", "Reduction gear oil 1 L", "btl", 118, 0, 0, "nev"),
    ("NEV", "电池冷却液 4L", "Battery coolant 4 L", "btl", 168, 0, 0, "all"),
    ("NEV", "高压线束总成", "High-voltage wiring harness", "pc", 3280, 0, 36, "nev"),
    ("NEV", "车载充电机 OBC", "On-board charger (OBC)", "pc", 5680, 0, 36, "nev"),
    ("NEV", "DC-DC 转换器", "DC-DC converter", "pc", 3880, 0, 36, "nev"),
    ("NEV", "交流充电口总成", "AC charging inlet", "pc", 1280, 0, 36, "nev"),
    ("NEV", "直流快充口总成", "DC fast-charging inlet", "pc", 1680, 0, 36, "nev"),
    ("NEV", "电池包冷却板", "Battery pack cooling plate", "pc", 2680, 0, 36, "nev"),
    ("NEV", "电池管理系统 BMS 模块", "Battery management module (BMS)", "pc", 4680, 0, 36, "nev"),
    ("NEV", "高压维修开关 MSD", "High-voltage service disconnect", "pc", 880, 0, 36, "nev"),
    ("NEV", "交流充电枪（随车）", "Portable AC charger", "set", 1980, 0, 24, "nev"),
    ("ACCESSORY", "全包围脚垫（套）", "All-weather floor mats (set)", "set", 598, 0, 6, "model"),
    ("ACCESSORY", "后备箱垫", "Boot liner", "pc", 298, 0, 6, "model"),
    ("ACCESSORY", "行车记录仪", "Dash camera", "pc", 1280, 0, 12, "all"),
    ("ACCESSORY", "车载灭火器", "Vehicle fire extinguisher", "pc", 128, 0, 0, "all"),
    ("ACCESSORY", "三角警示牌", "Warning triangle", "pc", 68, 0, 0, "all"),
    ("ACCESSORY", "挡泥板（套）", "Mud flaps (set)", "set", 268, 0, 6, "model"),
    ("ACCESSORY", "车顶行李架横杆", "Roof rack cross bars", "set", 1680, 0, 12, "model"),
]
CATEGORY_NO = {code: i + 10 for i, (code, _n, _e) in enumerate(CATEGORIES)}
NEV_MODELS = {"E3", "E6", "E9"}


def ean13(twelve: str) -> str:
    """An EAN-13 from 12 digits: the check digit weighs the digits 1, 3, 1, 3…"""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return twelve + str((10 - total % 10) % 10)


def _barcode(rng, number: str) -> str:
    """Most parts carry an EAN-13 (China's 69 prefix); the others' labels carry the number."""
    return ean13(f"69{rng.randrange(10**10):010d}") if rng.random() < 0.7 else number


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _plan(models, variants):
    """Every demo part as a dict, with its fitments: deterministic."""
    rng = random.Random(20260401)
    by_model = {}
    for v in variants:
        by_model.setdefault(v.vehicle_model.code, []).append(v)
    engines = {}  # engine line (model code + variant code part) -> variants
    for v in variants:
        if v.fuel_type not in ("bev",):
            line = v.code.rsplit("-", 1)[0]  # e.g. S5-15T
            engines.setdefault(line, []).append(v)
    model_codes = sorted(models)
    parts = []
    for item, (cat, zh, en, unit, price, wear, months, scope) in enumerate(TEMPLATES):
        if scope in ("all", "universal"):  # fluids and the like: one number fits every car
            targets = [(None, None, "")]
        elif scope == "engine":
            targets = [
                (models[line.split("-")[0]], vs, line.split("-", 1)[1])
                for line, vs in sorted(engines.items())
                if line.split("-")[0] not in {"E3", "E6"}
            ]
        else:
            chosen = [
                m
                for m in model_codes
                if scope == "model"
                or (scope == "nev" and m in NEV_MODELS)
                or (scope == "ice" and m not in {"E3", "E6"})
            ]
            targets = [(models[m], None, "") for m in chosen]
        for seq, (model, engine_variants, engine) in enumerate(targets):
            factor = Decimal(str(round(rng.uniform(0.85, 1.35), 2)))
            if model is not None and model.code in {"X7", "M8", "E9"}:
                factor += Decimal("0.2")
            list_price = _money(Decimal(price) * factor)
            cost = _money(list_price * Decimal(str(round(rng.uniform(0.60, 0.75), 3))))
            suffix = f" {model.name}" if model else ""
            suffix_en = f" {model.code}" if model else ""
            if engine:
                suffix += f" {engine}"
                suffix_en += f" {engine}"
            number = f"{CATEGORY_NO[cat]}{item:03d}{seq:02d}1"
            years = []
            if model is not None:
                years = sorted({v.model_year for v in by_model.get(model.code, [])})
            part = {
                "number": number,
                "category": cat,
                "name": f"{zh}{suffix}",
                "name_en": f"{en}{suffix_en}",
                "unit": unit,
                "list_price": list_price,
                "dealer_cost": cost,
                "warranty_months": months if not wear else 0,
                "warranty_km": 0 if wear or not months else (months // 12) * 50_000,
                "wear_part": bool(wear),
                "universal": scope in ("all", "universal"),
                "barcode": ean13(f"69{rng.randrange(10**10):010d}")
                if rng.random() < 0.7
                else number,
                "fitments": [],
                "predecessors": 0,
            }
            if engine_variants:
                part["fitments"] = [(model, v, None, None) for v in engine_variants]
            elif model is not None and years:
                part["fitments"] = [(model, None, years[0], None)]
            parts.append(part)
    # supersession: a fifth of the model parts had an older number (a few two older ones);
    # the old numbers fit the early model years only
    for part in parts:
        if part["universal"] or not part["fitments"] or part["fitments"][0][1] is not None:
            continue
        roll = rng.random()
        if roll < 0.2:
            part["predecessors"] = 2 if roll < 0.04 else 1
    # fill to ~800 with variant-specific trims (e.g. 18-inch vs 19-inch wheels)
    extra = [
        ("BODY", "铝合金轮毂 18 英寸", "Alloy wheel 18 in", "pc", 1680, 0, 24),
        ("BODY", "铝合金轮毂 19 英寸", "Alloy wheel 19 in", "pc", 1980, 0, 24),
        ("ELECTRIC", "中控显示屏总成", "Centre display assembly", "pc", 4280, 0, 24),
        ("ELECTRIC", "倒车影像摄像头", "Reversing camera", "pc", 680, 0, 24),
        ("ELECTRIC", "前毫米波雷达", "Front radar sensor", "pc", 2380, 0, 24),
        ("ELECTRIC", "超声波倒车雷达探头", "Parking sensor", "pc", 238, 0, 24),
        ("BODY", "座椅面套（前排）", "Front seat covers", "set", 1280, 0, 12),
    ]
    for item, (cat, zh, en, unit, price, wear, months) in enumerate(extra, start=len(TEMPLATES)):
        for seq, variant in enumerate(sorted(variants, key=lambda v: v.code)):
            list_price = _money(Decimal(price) * Decimal(str(round(rng.uniform(0.9, 1.3), 2))))
            number = f"{CATEGORY_NO[cat]}{item:03d}{seq:02d}1"
            parts.append(
                {
                    "number": number,
                    "category": cat,
                    "name": f"{zh} {variant.vehicle_model.name} {variant.name}",
                    "name_en": f"{en} {variant.code}",
                    "unit": unit,
                    "list_price": list_price,
                    "dealer_cost": _money(list_price * Decimal("0.68")),
                    "warranty_months": months,
                    "warranty_km": (months // 12) * 50_000,
                    "wear_part": bool(wear),
                    "universal": False,
                    "barcode": ean13(f"69{rng.randrange(10**10):010d}"),
                    "fitments": [(variant.vehicle_model, variant, None, None)],
                    "predecessors": 0,
                }
            )
    return parts


@transaction.atomic
def load_parts_catalogue_demo(stdout=None) -> dict:
    """Load the demo parts catalogue (run ``load_catalogue_demo`` first). Idempotent."""
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant, VehicleModel
    from aftersales.parts.models import Fitment, Part, PartCategory

    load_catalogue_demo()
    have_cats = {c.code: c for c in PartCategory.objects.all()}
    PartCategory.objects.bulk_create(
        [
            PartCategory(code=code, name=name, name_en=name_en)
            for code, name, name_en in CATEGORIES
            if code not in have_cats
        ]
    )
    categories = {c.code: c for c in PartCategory.objects.all()}
    models = {m.code: m for m in VehicleModel.objects.all()}
    variants = list(Variant.objects.select_related("vehicle_model").order_by("code"))
    plan = _plan(models, variants)

    # old numbers (revision 0 and, for chains of three, a revision before it: "9")
    rows = []
    for p in plan:
        rows.append((p, p["number"], None))
        prev_number, older = p["number"], []
        for step in range(p["predecessors"]):
            old_number = p["number"][:-1] + ("0" if step == 0 else "9")
            older.append((old_number, prev_number))
            prev_number = old_number
        for old_number, newer in older:
            rows.append((p, old_number, newer))

    existing = set(
        Part.objects.filter(number__in=[n for _p, n, _s in rows]).values_list("number", flat=True)
    )
    if len(existing) == len(rows):
        return {"parts": Part.objects.count(), "created": 0}
    new_parts = []
    for p, number, _newer in rows:
        if number in existing:
            continue
        is_old = number != p["number"]
        cut = Decimal("0.92") if is_old else Decimal("1")  # older numbers were cheaper
        new_parts.append(
            Part(
                number=number,
                category=categories[p["category"]],
                name=p["name"],
                name_en=p["name_en"],
                unit=p["unit"],
                list_price=_money(p["list_price"] * cut),
                dealer_cost=_money(p["dealer_cost"] * cut),
                barcode=None if is_old else p["barcode"],
                warranty_months=p["warranty_months"],
                warranty_km=p["warranty_km"],
                wear_part=p["wear_part"],
                universal=p["universal"],
                active=not is_old,
            )
        )
    Part.objects.bulk_create(new_parts, batch_size=500)
    created = {x.number for x in new_parts}
    ids = dict(
        Part.objects.filter(number__in=[n for _p, n, _s in rows]).values_list("number", "id")
    )
    # supersession links, newest first so that no link points to a missing row
    to_link = []
    for _p, number, newer in rows:
        if newer and number in created:
            to_link.append(Part(id=ids[number], superseded_by_id=ids[newer]))
    Part.objects.bulk_update(to_link, ["superseded_by"], batch_size=500)
    fitments = []
    for p, number, newer in rows:
        if number not in created:
            continue
        for model, variant, year_from, year_to in p["fitments"]:
            if newer:  # an old number fitted the first model year only
                year_from, year_to = None, year_from
            fitments.append(
                Fitment(
                    part_id=ids[number],
                    vehicle_model=model,
                    variant=variant,
                    year_from=year_from,
                    year_to=year_to,
                )
            )
    Fitment.objects.bulk_create(fitments, batch_size=1000)
    result = {"parts": Part.objects.count(), "created": len(new_parts), "fitments": len(fitments)}
    if stdout is not None:
        stdout.write(f"parts catalogue: {result}\n")
    return result
