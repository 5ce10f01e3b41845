"""The demo catalogue: the 星驰 brand's model lines, their variants, warranty terms and
service intervals, modelled on what Chinese makers publish. Idempotent."""

from django.db import transaction

from aftersales.catalogue.models import Brand, FuelType, Variant, VehicleModel

_WEAR_ICE = "刹车片\n刹车盘\n雨刮片\n轮胎\n灯泡\n火花塞\n离合器片\n各类滤清器\n12V 蓄电池（1 年后）"
_WEAR_NEV = "刹车片\n刹车盘\n雨刮片\n轮胎\n灯泡\n空调滤芯\n12V 蓄电池（1 年后）"

# code, name, body, brand, (warranty y/km), (powertrain y/km), (first m/km), (interval m/km)
MODELS = [
    ("S5", "星驰 S5", "紧凑型轿车", "XC", (3, 100_000), (5, 150_000), (6, 5_000), (12, 10_000)),
    ("S7", "星驰 S7", "中型轿车", "XC", (3, 100_000), (5, 150_000), (6, 5_000), (12, 10_000)),
    ("X3", "星驰 X3", "紧凑型 SUV", "XC", (3, 100_000), (5, 150_000), (6, 5_000), (12, 10_000)),
    ("X5", "星驰 X5", "中型 SUV", "XC", (4, 120_000), (6, 150_000), (6, 5_000), (12, 10_000)),
    ("X7", "星驰 X7", "中大型七座 SUV", "XC", (4, 120_000), (6, 150_000), (6, 5_000), (12, 10_000)),
    ("M8", "星驰 M8", "MPV", "XC", (4, 120_000), (6, 150_000), (6, 5_000), (12, 10_000)),
    ("E3", "星驰 E3", "纯电小型车", "XCEV", (3, 120_000), (8, 150_000), (12, 10_000), (12, 20_000)),
    (
        "E6",
        "星驰 E6",
        "纯电中型 SUV",
        "XCEV",
        (4, 120_000),
        (8, 200_000),
        (12, 10_000),
        (12, 20_000),
    ),
    (
        "E9",
        "星驰 E9",
        "增程式大型 SUV",
        "XCEV",
        (4, 120_000),
        (8, 200_000),
        (6, 5_000),
        (12, 10_000),
    ),
]

# model, code suffix, name, engine, fuel, transmission, VDS (VIN 4-8), model years
VARIANTS = [
    ("S5", "15L", "1.5L 舒适型", "1.5L", FuelType.PETROL, "CVT", "S5A15", (2022, 2023, 2024)),
    (
        "S5",
        "15T",
        "1.5T 豪华型",
        "1.5T",
        FuelType.PETROL,
        "7DCT",
        "S5B15",
        (2023, 2024, 2025, 2026),
    ),
    ("S7", "20T", "2.0T 旗舰型", "2.0T", FuelType.PETROL, "8AT", "S7A20", (2022, 2023, 2024, 2025)),
    ("S7", "HEV", "1.5T 混动", "1.5T + 电机", FuelType.HEV, "E-CVT", "S7H15", (2024, 2025, 2026)),
    (
        "X3",
        "15T",
        "1.5T 精英型",
        "1.5T",
        FuelType.PETROL,
        "7DCT",
        "X3A15",
        (2022, 2023, 2024, 2025, 2026),
    ),
    ("X5", "20T", "2.0T 四驱", "2.0T", FuelType.PETROL, "8AT", "X5A20", (2022, 2023, 2024, 2025)),
    ("X5", "PHEV", "1.5T 插混", "1.5T + 电机", FuelType.PHEV, "DHT", "X5P15", (2024, 2025, 2026)),
    ("X7", "20T", "2.0T 七座", "2.0T", FuelType.PETROL, "8AT", "X7A20", (2023, 2024, 2025, 2026)),
    ("M8", "20T", "2.0T 商务版", "2.0T", FuelType.PETROL, "8AT", "M8A20", (2022, 2023, 2024, 2025)),
    ("M8", "PHEV", "插混尊享版", "1.5T + 电机", FuelType.PHEV, "DHT", "M8P15", (2025, 2026)),
    (
        "E3",
        "400",
        "400 km 标准续航",
        "70 kW 电机",
        FuelType.BEV,
        "单速",
        "E3E40",
        (2023, 2024, 2025, 2026),
    ),
    (
        "E6",
        "520",
        "520 km 长续航",
        "150 kW 电机",
        FuelType.BEV,
        "单速",
        "E6E52",
        (2023, 2024, 2025, 2026),
    ),
    (
        "E6",
        "AWD",
        "650 km 双电机四驱",
        "2×150 kW 电机",
        FuelType.BEV,
        "单速",
        "E6D65",
        (2025, 2026),
    ),
    (
        "E9",
        "EREV",
        "增程版",
        "1.5L 增程器 + 200 kW 电机",
        FuelType.EREV,
        "单速",
        "E9R15",
        (2025, 2026),
    ),
]

WMI = {"XC": "LXC", "XCEV": "LXE"}


@transaction.atomic
def load_catalogue_demo(stdout=None):
    brands = {}
    for code, name, name_en in (("XC", "星驰", "Xingchi"), ("XCEV", "星驰新能源", "Xingchi EV")):
        brands[code], _ = Brand.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
    models = {}
    for code, name, body, brand, war, pt, first, interval in MODELS:
        nev = brand == "XCEV"
        models[code], _ = VehicleModel.objects.get_or_create(
            code=code,
            defaults={
                "brand": brands[brand],
                "name": name,
                "body_type": body,
                "warranty_years": war[0],
                "warranty_km": war[1],
                "powertrain_years": pt[0],
                "powertrain_km": pt[1],
                "first_service_months": first[0],
                "first_service_km": first[1],
                "service_interval_months": interval[0],
                "service_interval_km": interval[1],
                "wear_part_exclusions": _WEAR_NEV if nev else _WEAR_ICE,
            },
        )
    have = set(Variant.objects.values_list("code", flat=True))
    new = []
    for model, suffix, name, engine, fuel, gearbox, vds, years in VARIANTS:
        vehicle_model = models[model]
        for year in years:
            code = f"{model}-{suffix}-{year}"
            if code in have:
                continue
            new.append(
                Variant(
                    vehicle_model=vehicle_model,
                    code=code,
                    name=f"{year}款 {name}",
                    model_year=year,
                    engine=engine,
                    fuel_type=fuel,
                    transmission=gearbox,
                    vin_prefix=WMI[vehicle_model.brand.code] + vds,
                )
            )
    Variant.objects.bulk_create(new)
    return {"models": VehicleModel.objects.count(), "variants": Variant.objects.count()}
