"""Demo customers and vehicles, generated in bulk: ~2,400 customers and ~2,900 vehicles over
the six demo dealers, with service histories that give segmentation a realistic mix.

Deterministic (one ``random.Random`` with a fixed seed, dates anchored to a fixed day) and
idempotent: the demo owner login ``owner-demo`` linked to a customer marks the data as
loaded. Everything is written with ``bulk_create`` in one transaction; no per-row service
calls and no audit rows (this is history that predates the system, like an import).

The generators of names, mobile numbers, ID numbers and plates are reused by
``bench/crm_generate.py``.
"""

import bisect
import datetime
import itertools
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aftersales.crm.validators import compose_vin

SEED = 20260315
# Demo histories end here (or today, if earlier), so every run draws the same data.
ANCHOR = datetime.date(2026, 11, 20)
FIRST_SALE = datetime.date(2022, 1, 1)
OWNER_USERNAME = "owner-demo"

# Customers per demo dealer (bigger stores in the bigger cities).
DEALER_CUSTOMERS = {"BJ01": 520, "TJ01": 320, "SH01": 520, "HZ01": 340, "GZ01": 360, "SZ01": 340}
FLEETS_PER_DEALER = 2
TAGS = ["VIP", "车队客户", "投诉历史", "老客户推荐"]

# ---------------------------------------------------------------- people

# Surname frequencies (per cent of the population, national census order).
SURNAMES = (
    "王7.12 李7.00 张6.74 刘5.10 陈4.61 杨3.22 赵2.29 黄2.23 周2.12 吴2.05 徐1.67 孙1.54 "
    "胡1.32 朱1.27 高1.20 林1.19 何1.18 郭1.16 马1.05 罗0.86 梁0.84 宋0.77 郑0.76 谢0.73 "
    "韩0.63 唐0.62 冯0.61 于0.60 董0.59 肖0.58 程0.57 曹0.57 袁0.54 邓0.54 许0.53 傅0.52 "
    "沈0.51 曾0.50 彭0.50 吕0.47 苏0.46 卢0.46 蒋0.46 蔡0.45 贾0.41 丁0.41 魏0.40 薛0.39 "
    "叶0.39 闫0.38 余0.37 潘0.36 杜0.35 戴0.34 夏0.34 钟0.33 汪0.33 田0.32 任0.32 姜0.31 "
    "范0.31 方0.30 石0.29 姚0.28 谭0.28 廖0.27 邹0.26 熊0.26 金0.26 陆0.26 郝0.25 孔0.24 "
    "白0.24 崔0.23 康0.23 毛0.23 邱0.22 秦0.22 江0.22 史0.21 顾0.21 侯0.20 邵0.20 孟0.20 "
    "龙0.20 万0.19 段0.19 雷0.18 钱0.18 汤0.18 尹0.17 黎0.17 易0.16 常0.16 武0.16 乔0.15 "
    "贺0.15 赖0.15 龚0.15 文0.14 欧阳0.05 上官0.01 司马0.01 诸葛0.01"
)
# Surnames more common in the south (Guangdong) and in the Yangtze delta.
REGIONAL_BOOST = {
    "SOUTH": {"陈": 2.2, "黄": 2.0, "林": 1.8, "梁": 2.5, "何": 1.5, "罗": 1.5, "郑": 1.5,
              "谢": 1.4, "冯": 1.3, "钟": 1.6, "邓": 1.4, "曾": 1.5, "赖": 2.0, "张": 0.7},
    "EAST": {"徐": 1.6, "沈": 1.8, "顾": 1.8, "陆": 1.7, "钱": 1.8, "朱": 1.5, "周": 1.4,
             "吴": 1.3, "王": 0.8},
    "NORTH": {"王": 1.3, "张": 1.3, "刘": 1.3, "赵": 1.3, "孙": 1.3},
}  # fmt: skip

_SINGLE = {
    "m": "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰亮成晨博阳",
    "f": "芳娜敏静丽艳娟霞秀英玲燕萍红洁琳婷雪慧莉颖倩晶妍琪欣怡佳",
}
# Two-character given names by the decade the person was born in.
_DOUBLE = {
    ("m", 1960): "建国 建华 国强 志刚 志强 建军 卫东 立新 振华 国庆 永刚 海涛 文斌 德明 宏伟 建平",
    ("m", 1980): "海波 晓东 志伟 建伟 俊杰 文杰 晓峰 明辉 振宇 家豪 天宇 鹏飞 立伟 子健 春雷 一鸣",
    ("m", 1990): "子轩 浩然 宇航 梓豪 思远 博文 俊熙 宇轩 皓轩 子豪 天佑 泽宇 明轩 一凡 晨阳 锦程",
    ("f", 1960): "秀英 桂英 秀兰 玉兰 桂兰 丽华 淑珍 凤英 美玲 素芳 玉梅 红梅 丽萍 秀珍 桂芳",
    ("f", 1980): "晓燕 丽娜 海燕 雪梅 静怡 丽君 晓丽 婷婷 慧敏 晓静 春梅 艳红 佳丽 明珠 晓红",
    ("f", 1990): "欣怡 梓涵 诗涵 雨萱 佳怡 思琪 梦瑶 可馨 雨桐 紫涵 一诺 欣妍 若曦 子琪 语桐",
}  # fmt: skip

MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 195 198 199"
).split()

# Resident ID region codes per dealer city: (code, first valid birth year, last). GB 11643
# numbers carry the code in force when the person was born; stdnum checks that.
CITY_ID_CODES = {
    "北京": [("110105", 0, 9999), ("110108", 0, 9999), ("110101", 0, 9999),
             ("110102", 0, 9999), ("110106", 0, 9999)],
    "天津": [("120101", 0, 9999), ("120103", 0, 9999), ("120104", 0, 9999),
             ("120102", 0, 9999), ("120111", 1992, 9999)],
    "上海": [("310115", 1992, 9999), ("310104", 0, 9999), ("310105", 0, 9999),
             ("310107", 0, 9999), ("310110", 0, 9999), ("310112", 1981, 9999)],
    "杭州": [("330106", 1983, 9999), ("330102", 1983, 9999), ("330105", 1983, 9999),
             ("330120", 0, 1983), ("330122", 0, 9999)],
    "广州": [("440106", 1985, 9999), ("440104", 1983, 9999), ("440105", 1983, 9999),
             ("440103", 1983, 9999), ("440120", 0, 1983)],
    "深圳": [("440305", 1990, 9999), ("440304", 1990, 9999), ("440303", 1990, 9999),
             ("440306", 1992, 9999), ("440320", 0, 1983), ("440321", 1982, 1992)],
}  # fmt: skip

# Plate prefixes per city: province character and the letters the city issues.
CITY_PLATES = {
    "北京": ("京", "ABCEFGHJKLMNPQ"),
    "天津": ("津", "ABCDEFGHJKLMNPQR"),
    "上海": ("沪", "ABCDEFGHJKLMN"),
    "杭州": ("浙", "A"),
    "广州": ("粤", "A"),
    "深圳": ("粤", "B"),
}
CITY_AREA_CODES = {
    "北京": "010",
    "天津": "022",
    "上海": "021",
    "杭州": "0571",
    "广州": "020",
    "深圳": "0755",
}
CITY_STREETS = {
    "北京": {"朝阳区": "望京街 建国路 酒仙桥路 阜通东大街 广顺北大街 朝阳北路",
             "海淀区": "中关村大街 学院路 知春路 万泉河路", "东城区": "东直门南大街 和平里东街",
             "丰台区": "南三环西路 丰台北路"},
    "天津": {"和平区": "南京路 滨江道", "河西区": "友谊路 解放南路", "南开区": "鞍山西道 红旗路",
             "滨海新区": "新港路 第三大街"},
    "上海": {"浦东新区": "张杨路 世纪大道 锦绣路 金科路", "徐汇区": "漕溪北路 田林路",
             "长宁区": "天山路 虹桥路", "闵行区": "莘庄路 七莘路"},
    "杭州": {"西湖区": "文三路 天目山路 古墩路", "上城区": "解放路 望江路",
             "拱墅区": "莫干山路 湖墅南路", "余杭区": "文一西路 五常大道"},
    "广州": {"天河区": "天河路 体育西路 中山大道", "越秀区": "环市东路 东风中路",
             "海珠区": "新港中路 江南大道", "白云区": "机场路 白云大道"},
    "深圳": {"南山区": "科技园路 深南大道 南海大道 后海大道", "福田区": "福华路 益田路",
             "宝安区": "宝安大道 新安路"},
}  # fmt: skip
FLEET_WORDS = "顺达 恒通 远航 鼎盛 安捷 宏运 众诚 鑫源 嘉禾 路通".split()
FLEET_KINDS = ["汽车租赁有限公司", "物流有限公司", "商务车服务有限公司", "出行科技有限公司"]
EMAIL_DOMAINS = ["qq.com", "qq.com", "163.com", "126.com", "sina.com", "139.com"]


def _cumulative(weights):
    return list(itertools.accumulate(weights))


class NameGenerator:
    """Chinese person names: surname by frequency (with a regional tilt), a one- or
    two-character given name matching the person's sex and the decade of birth."""

    def __init__(self, region_code: str = ""):
        boost = REGIONAL_BOOST.get(region_code, {})
        pairs = [(item[:-4], float(item[-4:])) for item in SURNAMES.split()]
        self.surnames = [s for s, _ in pairs]
        self.cum = _cumulative([w * boost.get(s, 1.0) for s, w in pairs])
        self.double = {key: value.split() for key, value in _DOUBLE.items()}

    def surname(self, rng: random.Random) -> str:
        return self.surnames[bisect.bisect(self.cum, rng.random() * self.cum[-1])]

    def name(self, rng: random.Random, gender: str, birth_year: int) -> str:
        if rng.random() < 0.3:
            given = rng.choice(_SINGLE[gender])
        else:
            decade = 1960 if birth_year < 1980 else 1980 if birth_year < 1990 else 1990
            given = rng.choice(self.double[(gender, decade)])
        return self.surname(rng) + given


class MobileGenerator:
    """Unique, valid mainland mobile numbers; never the demo staff's 1380000xxxx."""

    def __init__(self, taken=()):
        self.used = set(taken)

    def new(self, rng: random.Random) -> str:
        while True:
            number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
            if number not in self.used and not number.startswith("1380000"):
                self.used.add(number)
                return number

    def typo_of(self, rng: random.Random, mobile: str) -> str:
        """The same number with one digit (after the prefix) mistyped."""
        for _ in range(50):
            pos = rng.randrange(3, 11)
            digit = rng.choice([d for d in "0123456789" if d != mobile[pos]])
            number = mobile[:pos] + digit + mobile[pos + 1 :]
            if number not in self.used:
                self.used.add(number)
                return number
        return self.new(rng)


def id_number_for(rng: random.Random, city: str, birthday: datetime.date, gender: str) -> str:
    """A valid GB 11643 resident ID number of someone born in ``city``: a region code in
    force in the birth year, the birthday, a sequence whose last digit is odd for men."""
    from stdnum.cn import ric

    codes = [c for c, first, last in CITY_ID_CODES[city] if first <= birthday.year <= last]
    code = codes[0] if rng.random() < 0.4 else rng.choice(codes)
    seq = rng.randrange(0, 100) * 10 + 2 * rng.randrange(5) + (gender == "m")
    body = f"{code}{birthday:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_SHAPES = [
    ("ddddd", 50),
    ("Ldddd", 15),
    ("dLddd", 10),
    ("LLddd", 10),
    ("ddLdd", 5),
    ("dddLd", 5),
    ("ddddL", 5),
]
_PLATE_CUM = _cumulative(w for _, w in _PLATE_SHAPES)


class PlateGenerator:
    """Unique plates of a city: ordinary blue 7-character plates, or 8-character green
    new-energy plates (D: battery electric, F: plug-in / range extender)."""

    def __init__(self, taken=()):
        self.used = set(taken)

    def new(self, rng: random.Random, city: str, green: bool = False, fuel: str = "") -> str:
        province, letters = CITY_PLATES[city]
        while True:
            prefix = province + rng.choice(letters)
            if green:
                kind = "D" if fuel == "bev" else "F"
                body = (
                    kind
                    + rng.choice(_PLATE_LETTERS + "0123456789")
                    + f"{rng.randrange(10_000):04d}"
                )
            else:
                shape = _PLATE_SHAPES[bisect.bisect(_PLATE_CUM, rng.random() * _PLATE_CUM[-1])][0]
                body = "".join(
                    rng.choice(_PLATE_LETTERS) if c == "L" else rng.choice("0123456789")
                    for c in shape
                )
            plate = prefix + body
            if plate not in self.used:
                self.used.add(plate)
                return plate


def address_in(rng: random.Random, city: str) -> str:
    district = rng.choice(list(CITY_STREETS[city]))
    street = rng.choice(CITY_STREETS[city][district].split())
    return (
        f"{city}市{district}{street}{rng.randint(1, 399)}号{rng.randint(1, 20)}号楼"
        f"{rng.randint(1, 4)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
    )


def email_for(rng: random.Random) -> str:
    return f"{rng.randint(100_000_00, 2_999_999_999)}@{rng.choice(EMAIL_DOMAINS)}"


def add_days(day: datetime.date, days: float) -> datetime.date:
    return day + datetime.timedelta(days=int(days))


# ---------------------------------------------------------------- cars

# Relative sales of the model lines; new-energy models sell better in the south and east.
MODEL_WEIGHTS = {"X3": 20, "S5": 14, "E6": 12, "S7": 10, "E3": 9, "X5": 9, "X7": 7, "M8": 6,
                 "E9": 6}  # fmt: skip
NEV_TILT = {"NORTH": 0.8, "EAST": 1.3, "SOUTH": 1.5}
COLOURS = ["星空黑", "珍珠白", "珍珠白", "冰川银", "天际蓝", "熔岩红", "星云灰", "极光绿"]
FLEET_MODELS = ["M8", "X7", "S5", "E6"]


def sale_window(model_year: int, end: datetime.date):
    """A model year sells from July of the year before to the end of its year."""
    start = max(datetime.date(model_year - 1, 7, 1), FIRST_SALE)
    stop = min(datetime.date(model_year, 12, 31), end - datetime.timedelta(days=45))
    return (start, stop) if start < stop else None


def engine_number(rng: random.Random, variant) -> str:
    if variant.fuel_type == "bev":
        return f"TZ{rng.choice(['180', '220', '250'])}XS{rng.randrange(10**7):07d}"
    return f"XC{variant.engine[:3].replace('.', '')}{rng.choice('ABCD')}{rng.randrange(10**7):07d}"


def maintenance_amount(rng: random.Random, model_code: str, fuel: str, big: bool) -> Decimal:
    if fuel == "bev":
        low, high = 220, 480
    elif model_code in {"X5", "X7", "M8", "E9"}:
        low, high = 700, 1300
    else:
        low, high = 480, 900
    amount = rng.uniform(low, high) * (1.8 if big else 1.0)
    return Decimal(f"{amount:.0f}.00")


# ---------------------------------------------------------------- plan


@dataclass
class PersonPlan:
    dealer: object
    name: str
    mobile: str
    gender: str = ""
    birthday: datetime.date | None = None
    id_number: str = ""
    fleet: bool = False
    profile: str = "regular"
    tags: set = field(default_factory=set)
    links: dict = field(default_factory=dict)  # dealer id -> relationship kind
    phone2: str = ""
    consent: bool = False
    duplicate_of: int | None = None
    obj: object = None


@dataclass
class VisitPlan:
    day: datetime.date
    km: int
    kind: str
    amount: Decimal
    dealer: object
    owner: int = 0  # index of the person who owned the car that day


@dataclass
class VehiclePlan:
    owner: int
    dealer: object
    variant: object
    sale_date: datetime.date
    invoice_date: datetime.date
    plate: str
    vin: str
    previous_owner: int | None = None
    transfer_on: datetime.date | None = None
    sale_km: int = 0
    visits: list = field(default_factory=list)
    extra_readings: list = field(default_factory=list)
    insurance_expiry: datetime.date | None = None
    last_inspection: datetime.date | None = None
    colour: str = ""
    engine: str = ""
    obj: object = None


class DemoPlanner:
    """Draws the whole demo data set in memory (no database access but the reads
    done by the caller), so the writes can be bulk inserts."""

    def __init__(self, dealers, variants, *, end, taken_mobiles=(), taken_plates=(),
                 taken_vins=(), seed=SEED):  # fmt: skip
        self.rng = random.Random(seed)
        self.dealers = dealers
        self.end = end
        self.mobiles = MobileGenerator(taken_mobiles)
        self.plates = PlateGenerator(taken_plates)
        self.taken_vins = set(taken_vins)
        self.people: list[PersonPlan] = []
        self.vehicles: list[VehiclePlan] = []
        self.names = {code: NameGenerator(code) for code in ("NORTH", "EAST", "SOUTH")}
        self.by_model: dict[str, list] = {}
        for variant in variants:
            if sale_window(variant.model_year, end):
                self.by_model.setdefault(variant.vehicle_model.code, []).append(variant)
        self.serials = itertools.count(200_001)

    # people -----------------------------------------------------------------

    def person(self, dealer, *, with_id: bool) -> PersonPlan:
        rng = self.rng
        gender = "m" if rng.random() < 0.68 else "f"  # car buyers skew male
        birthday = datetime.date(rng.randint(1960, 2002), 1, 1) + datetime.timedelta(
            days=rng.randrange(365)
        )
        plan = PersonPlan(
            dealer=dealer,
            name=self.names[dealer.region.code].name(rng, gender, birthday.year),
            mobile=self.mobiles.new(rng),
            gender=gender,
        )
        if with_id:
            plan.birthday = birthday
            plan.id_number = id_number_for(rng, dealer.city, birthday, gender)
        plan.profile = rng.choices(
            ["faithful", "regular", "drifter", "lapsed"], weights=[30, 35, 22, 13]
        )[0]
        self.people.append(plan)
        return plan

    def fleet(self, dealer) -> PersonPlan:
        rng = self.rng
        plan = PersonPlan(
            dealer=dealer,
            name=f"{dealer.city}{rng.choice(FLEET_WORDS)}{rng.choice(FLEET_KINDS)}",
            mobile=self.mobiles.new(rng),
            fleet=True,
            profile="faithful",
            tags={"车队客户"},
        )
        plan.phone2 = f"{CITY_AREA_CODES[dealer.city]}-{rng.randint(5_000_000, 8_999_999)}"
        self.people.append(plan)
        return plan

    # vehicles ---------------------------------------------------------------

    def choose_variant(self, region_code: str, fleet: bool):
        rng = self.rng
        if fleet:
            model = rng.choice([m for m in FLEET_MODELS if m in self.by_model])
        else:
            codes = [m for m in MODEL_WEIGHTS if m in self.by_model]
            weights = [
                MODEL_WEIGHTS[m] * (NEV_TILT[region_code] if m.startswith("E") else 1.0)
                for m in codes
            ]
            model = rng.choices(codes, weights=weights)[0]
        return rng.choice(self.by_model[model])

    def vin(self, variant, dealer_index: int) -> str:
        while True:
            plant = "BTSHGZ"[dealer_index % 6] if self.rng.random() < 0.5 else "C"
            vin = compose_vin(variant.vin_prefix, variant.model_year, plant, next(self.serials))
            if vin not in self.taken_vins:
                self.taken_vins.add(vin)
                return vin

    def vehicle(self, owner_index: int, *, dealer_index: int) -> VehiclePlan:
        rng = self.rng
        person = self.people[owner_index]
        dealer = person.dealer
        variant = self.choose_variant(dealer.region.code, person.fleet)
        start, stop = sale_window(variant.model_year, self.end)
        sale = start + datetime.timedelta(days=rng.randrange((stop - start).days + 1))
        nev = variant.fuel_type in {"bev", "phev", "erev"}
        green = nev and rng.random() < 1 / 3
        plan = VehiclePlan(
            owner=owner_index,
            dealer=dealer,
            variant=variant,
            sale_date=sale,
            invoice_date=sale - datetime.timedelta(days=rng.choice([0, 0, 0, 0, 1, 2, 3])),
            plate=self.plates.new(rng, dealer.city, green=green, fuel=variant.fuel_type),
            vin=self.vin(variant, dealer_index),
            sale_km=rng.randint(3, 60),
            colour=rng.choice(COLOURS),
            engine=engine_number(rng, variant),
        )
        self.vehicles.append(plan)
        return plan

    def history(self, plan: VehiclePlan, second_dealer=None):
        """Service visits and odometer readings from the sale to the anchor day, following
        the model's maintenance schedule and the owner's habits."""
        rng = self.rng
        person = self.people[plan.owner]
        model = plan.variant.vehicle_model
        if person.fleet:
            per_year = rng.uniform(35_000, 70_000)
        else:
            per_year = min(max(rng.lognormvariate(9.45, 0.4), 4_000), 38_000)
        per_day = per_year / 365
        profile = person.profile
        stop_after = {"faithful": 99, "regular": 99, "drifter": rng.randint(1, 3),
                      "lapsed": rng.randint(0, 1)}[profile]  # fmt: skip
        day, km = plan.sale_date, plan.sale_km
        months, interval_km = model.first_service_months, model.first_service_km
        services = 0
        visits: list[VisitPlan] = []
        warranty_end = _anniversary(plan.invoice_date, model.warranty_years)
        while services < stop_after:
            due = min(months * 30.4, interval_km / per_day)
            late = {"faithful": (-10, 20), "regular": (-5, 75)}.get(profile, (0, 45))
            gap = max(20, due + rng.randint(*late))
            next_day = add_days(day, gap)
            if next_day > self.end:
                break
            next_km = km + int(per_day * gap * rng.uniform(0.85, 1.15))
            skipped = profile == "regular" and rng.random() < 0.2
            if not skipped:
                dealer = plan.dealer
                if second_dealer is not None and visits and rng.random() < 0.5:
                    dealer = second_dealer
                first = services == 0 and not person.fleet
                amount = (
                    Decimal("0.00")  # the first service is free (首保免费)
                    if first
                    else maintenance_amount(
                        rng, model.code, plan.variant.fuel_type, big=services % 3 == 2
                    )
                )
                visits.append(VisitPlan(next_day, next_km, "maintenance", amount, dealer))
                services += 1
            # now and then a repair between two services
            if rng.random() < (0.25 if person.fleet else 0.12):
                repair_gap = rng.randint(15, max(16, int(months * 30.4) - 15))
                repair_day = add_days(next_day, repair_gap)
                if repair_day <= self.end:
                    repair_km = next_km + int(per_day * repair_gap)
                    accident = rng.random() < 0.2
                    in_warranty = repair_day < warranty_end and repair_km < model.warranty_km
                    if accident:
                        kind, amount = "accident", Decimal(f"{rng.uniform(1_500, 24_000):.2f}")
                    elif in_warranty and rng.random() < 0.6:
                        kind, amount = "warranty", Decimal("0.00")
                    else:
                        kind, amount = "repair", Decimal(f"{rng.uniform(180, 3_800):.2f}")
                    visits.append(VisitPlan(repair_day, repair_km, kind, amount, plan.dealer))
            day, km = next_day, next_km
            months, interval_km = model.service_interval_months, model.service_interval_km
        visits.sort(key=lambda v: v.day)
        # repairs drawn between services may overtake the next service's reading
        top = plan.sale_km
        for visit in visits:
            top = visit.km = max(visit.km, top + 1)
        plan.visits = visits[-7:]  # at most 8 readings: the sale and 7 visits
        if not plan.visits:
            gap = rng.randint(14, max(15, (self.end - plan.sale_date).days))
            plan.extra_readings.append(
                (add_days(plan.sale_date, gap), plan.sale_km + int(per_day * gap), "owner")
            )
        self._dates(plan, person)

    def _dates(self, plan: VehiclePlan, person: PersonPlan):
        rng = self.rng
        sale = plan.sale_date
        years = 1
        while _anniversary(sale, years) < self.end - datetime.timedelta(days=20):
            years += 1
        if rng.random() < 0.1 and years > 1:  # insured elsewhere since: our date lapsed
            years -= 1
        plan.insurance_expiry = _anniversary(sale, years) - datetime.timedelta(days=1)
        step = 1 if person.fleet else 2  # commercial use: yearly; private: every two years
        last = None
        n = step
        while _anniversary(sale, n) <= self.end:
            last = _anniversary(sale, n) - datetime.timedelta(days=rng.randint(0, 40))
            n += step
        plan.last_inspection = last


def _anniversary(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def plan_demo(dealers, variants, *, end, taken_mobiles=(), taken_plates=(), taken_vins=()):
    """The demo data set, drawn in memory: people, vehicles, histories, duplicates."""
    planner = DemoPlanner(
        dealers,
        variants,
        end=end,
        taken_mobiles=taken_mobiles,
        taken_plates=taken_plates,
        taken_vins=taken_vins,
    )
    rng = planner.rng
    by_region: dict[int, list] = {}
    for dealer in dealers:
        by_region.setdefault(dealer.region_id, []).append(dealer)
    home: dict[int, list[int]] = {}  # dealer id -> indexes of private customers
    for dealer_index, dealer in enumerate(dealers):
        home[dealer.pk] = []
        for _ in range(FLEETS_PER_DEALER):
            planner.fleet(dealer)
            fleet_index = len(planner.people) - 1
            for _ in range(rng.randint(3, 8)):
                planner.vehicle(fleet_index, dealer_index=dealer_index)
        count = DEALER_CUSTOMERS.get(dealer.code, 300) - FLEETS_PER_DEALER
        for _ in range(count):
            person = planner.person(dealer, with_id=rng.random() < 0.5)
            index = len(planner.people) - 1
            home[dealer.pk].append(index)
            planner.vehicle(index, dealer_index=dealer_index)
            if rng.random() < 0.17:
                planner.vehicle(index, dealer_index=dealer_index)
            person.links[dealer.pk] = "sold"
            if rng.random() < 0.6:
                person.consent = True
            if rng.random() < 0.05:
                person.tags.add("VIP")
            if rng.random() < 0.03:
                person.tags.add("投诉历史")
            if rng.random() < 0.08:
                person.tags.add("老客户推荐")
    # About 5 % of the cars changed hands (过户): the previous owner bought at the same dealer.
    for plan in planner.vehicles:
        person = planner.people[plan.owner]
        if person.fleet or rng.random() >= 0.05:
            continue
        earliest = plan.sale_date + datetime.timedelta(days=300)
        latest = end - datetime.timedelta(days=30)
        if earliest >= latest:
            continue
        candidates = home[plan.dealer.pk]
        previous = rng.choice(candidates)
        if previous == plan.owner:
            continue
        plan.previous_owner = previous
        plan.transfer_on = earliest + datetime.timedelta(
            days=rng.randrange((latest - earliest).days)
        )
    # Service histories; some cars are also serviced at a second dealer.
    for plan in planner.vehicles:
        second = None
        if rng.random() < 0.08:
            region_mates = [d for d in by_region[plan.dealer.region_id] if d != plan.dealer]
            pool = region_mates if region_mates and rng.random() < 0.7 else dealers
            second = rng.choice([d for d in pool if d != plan.dealer])
        planner.history(plan, second)
        for visit in plan.visits:
            visit.owner = (
                plan.previous_owner
                if plan.transfer_on and visit.day < plan.transfer_on
                else plan.owner
            )
    # Deliberate duplicates for the duplicates page.
    originals = [i for i, p in enumerate(planner.people) if not p.fleet]
    with_id = [i for i in originals if planner.people[i].id_number]
    for index in rng.sample(with_id, 8):  # the same ID number, another mobile
        _duplicate(planner, index, "same_id")
    for index in rng.sample(originals, 8):  # phone2 is another customer's mobile
        _duplicate(planner, index, "phone2")
    for index in rng.sample(originals, 8):  # same name, one digit of the mobile mistyped
        _duplicate(planner, index, "typo")
    return planner


def _duplicate(planner: DemoPlanner, index: int, kind: str):
    rng = planner.rng
    original = planner.people[index]
    copy = PersonPlan(
        dealer=original.dealer,
        name=original.name,
        mobile=planner.mobiles.new(rng),
        gender=original.gender,
        profile="lapsed",
        duplicate_of=index,
    )
    if kind == "same_id":
        copy.id_number, copy.birthday = original.id_number, original.birthday
    elif kind == "phone2":
        copy.phone2 = original.mobile
    else:
        copy.mobile = planner.mobiles.typo_of(rng, original.mobile)
    copy.links[original.dealer.pk] = "registered"
    planner.people.append(copy)


# ---------------------------------------------------------------- writing


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _owner_facts(customer) -> dict:
    from aftersales.crm import pii

    vehicle = customer.vehicles.order_by("id").first()
    return {
        "customer": customer.name,
        "mobile": customer.mobile,
        "id_number": pii.decrypt(customer.id_number_encrypted)
        if customer.id_number_encrypted
        else "",
        "vin": vehicle.vin if vehicle else "",
        "vin_last8": vehicle.vin[-8:] if vehicle else "",
        "plate": vehicle.plate if vehicle else "",
    }


def _summary(started: float, created: bool) -> dict:
    from aftersales.crm.models import Customer, OdometerReading, ServiceVisit, Vehicle

    owner = Customer.objects.filter(user__username=OWNER_USERNAME).first()
    registration = (
        Customer.objects.filter(notes__startswith="演示：车主注册").order_by("id").first()
    )
    return {
        "created": created,
        "customers": Customer.objects.count(),
        "vehicles": Vehicle.objects.count(),
        "readings": OdometerReading.objects.count(),
        "visits": ServiceVisit.objects.count(),
        "owner_login": _owner_facts(owner) | {"username": OWNER_USERNAME} if owner else None,
        "registration_demo": _owner_facts(registration) if registration else None,
        "seconds": round(time.perf_counter() - started, 1),
    }


def load_crm_demo(stdout=None):
    """Load the demo customers and vehicles (once); returns counts, the time taken and the
    identifiers of the demo owner (for docs/crm.md and the WeChat pages)."""
    from aftersales.crm.models import Customer

    started = time.perf_counter()
    created = not Customer.objects.filter(user__username=OWNER_USERNAME).exists()
    if created:
        _load()
    segments = None
    # Segments are computed after the load's transaction; if that failed once, the next
    # run (which loads nothing) computes them.
    if created or not Customer.objects.exclude(segment="").exists():
        segments = _recompute_segments()
    result = _summary(started, created=created)
    result["segments"] = segments
    if stdout is not None:
        stdout.write(f"crm demo: {result}")
    return result


def _recompute_segments():
    # Written by the segmentation module; until it is, its stub returns nothing.
    from aftersales.crm import segments

    try:
        return segments.segments_recompute()
    except NotImplementedError:
        return None


@transaction.atomic
def _load():
    from django.contrib.auth.hashers import make_password

    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.crm.choices import ContactChannel, CustomerSource
    from aftersales.crm.models import Customer, Vehicle
    from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
    from aftersales.org.models import Dealer, User

    dealers = list(Dealer.objects.filter(code__in=DEALER_CUSTOMERS).select_related("region"))
    if len(dealers) < len(DEALER_CUSTOMERS):
        load_org_demo()
        dealers = list(Dealer.objects.filter(code__in=DEALER_CUSTOMERS).select_related("region"))
    dealers.sort(key=lambda d: list(DEALER_CUSTOMERS).index(d.code))
    variants = list(Variant.objects.select_related("vehicle_model").order_by("code"))
    if not variants:
        load_catalogue_demo()
        variants = list(Variant.objects.select_related("vehicle_model").order_by("code"))
    end = min(ANCHOR, timezone.localdate() - datetime.timedelta(days=1))
    planner = plan_demo(
        dealers,
        variants,
        end=end,
        taken_mobiles=set(Customer.objects.values_list("mobile", flat=True))
        | set(User.objects.exclude(mobile=None).values_list("mobile", flat=True)),
        taken_plates=set(Vehicle.objects.exclude(plate="").values_list("plate", flat=True)),
        taken_vins=set(Vehicle.objects.values_list("vin", flat=True)),
    )
    rng = planner.rng
    people, vehicles = planner.people, planner.vehicles

    # The demo owner login and a second owner for the registration walk-through: private
    # BJ01 customers with an ID number and exactly one car, never sold on.
    owns = {}
    for plan in vehicles:
        owns.setdefault(plan.owner, []).append(plan)
    sold_on = {p.previous_owner for p in vehicles if p.previous_owner is not None}
    duplicated = {p.duplicate_of for p in people if p.duplicate_of is not None}
    simple = [
        i
        for i, p in enumerate(people)
        if p.dealer.code == "BJ01"
        and p.id_number
        and not p.fleet
        and len(owns.get(i, [])) == 1
        and owns[i][0].previous_owner is None
        and i not in sold_on
        and i not in duplicated
    ]
    owner_index, registration_index = simple[0], simple[1]

    first_sale = {}
    for plan in vehicles:
        for index in (plan.owner, plan.previous_owner):
            if index is not None:
                first_sale[index] = min(first_sale.get(index, plan.sale_date), plan.sale_date)

    from aftersales.crm.services import set_id_number

    customers = []
    for index, plan in enumerate(people):
        since = first_sale.get(index, end - datetime.timedelta(days=rng.randint(30, 600)))
        channel = rng.choices(
            [ContactChannel.SMS, ContactChannel.WECHAT, ContactChannel.PHONE, ContactChannel.EMAIL],
            weights=[45, 30, 20, 5],
        )[0]
        email = email_for(rng) if channel == ContactChannel.EMAIL or rng.random() < 0.12 else ""
        consent = plan.consent or (plan.fleet and rng.random() < 0.5)
        quiet = rng.random() < 0.3
        quiet_from, quiet_until = rng.choice(
            [(datetime.time(21), datetime.time(8)), (datetime.time(22), datetime.time(7, 30)),
             (datetime.time(12), datetime.time(14)), (datetime.time(20, 30), datetime.time(9))]
        )  # fmt: skip
        phone2 = plan.phone2
        if not phone2 and rng.random() < 0.06:
            phone2 = f"{CITY_AREA_CODES[plan.dealer.city]}-{rng.randint(5_000_000, 8_999_999)}"
        customer = Customer(
            name=plan.name,
            mobile=plan.mobile,
            phone2=phone2,
            gender=plan.gender,
            email=email,
            city=plan.dealer.city,
            address=address_in(rng, plan.dealer.city),
            contact_channel=channel,
            quiet_from=quiet_from if quiet else None,
            quiet_until=quiet_until if quiet else None,
            marketing_consent=consent,
            marketing_consent_at=_aware(since) if consent else None,
            loyalty_points=0 if plan.duplicate_of is not None else rng.randrange(0, 3_000, 10),
            source=CustomerSource.MANUAL if plan.duplicate_of is not None else CustomerSource.SALE,
            origin_dealer=plan.dealer,
        )
        if plan.id_number:
            set_id_number(customer, plan.id_number)
        if index == registration_index:
            customer.notes = "演示：车主注册（车架号后 8 位 + 身份证号 + 手机号）"
        plan.obj = customer
        customers.append(customer)
    Customer.objects.bulk_create(customers, batch_size=500)

    user = User.objects.filter(username=OWNER_USERNAME).first()
    if user is None:
        owner = people[owner_index]
        user = User.objects.create(
            username=OWNER_USERNAME,
            display_name=owner.name,
            password=make_password(DEMO_PASSWORD),
        )
    Customer.objects.filter(pk=people[owner_index].obj.pk).update(
        user=user, source=CustomerSource.REGISTRATION
    )

    _write_vehicles(planner, end)
    _write_links_and_tags(planner)


def _write_vehicles(planner: DemoPlanner, end: datetime.date):
    from aftersales.crm.choices import OdometerSource, OwnershipReason
    from aftersales.crm.models import OdometerReading, Ownership, ServiceVisit, Vehicle
    from aftersales.crm.services import apply_warranty

    people = planner.people
    rows = []
    for plan in planner.vehicles:
        last_day, last_km = plan.sale_date, plan.sale_km
        for visit in plan.visits:
            last_day, last_km = visit.day, visit.km
        for day, km, _source in plan.extra_readings:
            last_day, last_km = day, km
        vehicle = Vehicle(
            vin=plan.vin,
            vin_last8=plan.vin[-8:],
            vin_last6=plan.vin[-6:],
            plate=plan.plate,
            variant=plan.variant,
            colour=plan.colour,
            engine_number=plan.engine,
            sale_date=plan.sale_date,
            invoice_date=plan.invoice_date,
            selling_dealer=plan.dealer,
            insurance_expiry=plan.insurance_expiry,
            last_inspection=plan.last_inspection,
            odometer_km=last_km,
            odometer_on=last_day,
            owner=people[plan.owner].obj,
        )
        apply_warranty(vehicle)
        plan.obj = vehicle
        rows.append(vehicle)
    Vehicle.objects.bulk_create(rows, batch_size=500)

    ownerships, readings, visits = [], [], []
    sequence = itertools.count(1)
    for plan in planner.vehicles:
        vehicle = plan.obj
        if plan.previous_owner is not None:
            ownerships.append(
                Ownership(
                    vehicle=vehicle,
                    customer=people[plan.previous_owner].obj,
                    started_on=plan.sale_date,
                    ended_on=plan.transfer_on,
                    reason=OwnershipReason.NEW_SALE,
                )
            )
        ownerships.append(
            Ownership(
                vehicle=vehicle,
                customer=people[plan.owner].obj,
                started_on=plan.transfer_on or plan.sale_date,
                reason=OwnershipReason.TRANSFER if plan.transfer_on else OwnershipReason.NEW_SALE,
            )
        )
        readings.append(
            OdometerReading(
                vehicle=vehicle,
                km=plan.sale_km,
                read_on=plan.sale_date,
                source=OdometerSource.SALE,
                dealer=plan.dealer,
            )
        )
        for day, km, source in plan.extra_readings:
            readings.append(OdometerReading(vehicle=vehicle, km=km, read_on=day, source=source))
        for visit in plan.visits:
            readings.append(
                OdometerReading(
                    vehicle=vehicle,
                    km=visit.km,
                    read_on=visit.day,
                    source=OdometerSource.REPAIR_ORDER,
                    dealer=visit.dealer,
                )
            )
            visits.append(
                ServiceVisit(
                    customer=people[visit.owner].obj,
                    vehicle=vehicle,
                    dealer=visit.dealer,
                    visited_on=visit.day,
                    kind=visit.kind,
                    amount=visit.amount,
                    odometer_km=visit.km,
                    reference=f"RO{visit.dealer.code}{visit.day:%y%m}{next(sequence):05d}",
                )
            )
    Ownership.objects.bulk_create(ownerships, batch_size=1000)
    OdometerReading.objects.bulk_create(readings, batch_size=1000)
    ServiceVisit.objects.bulk_create(visits, batch_size=1000)


def _write_links_and_tags(planner: DemoPlanner):
    from aftersales.crm.models import Customer, CustomerTag, DealerCustomer, DealerVehicle

    people = planner.people
    vehicle_links: dict[tuple, str] = {}
    customer_links: dict[tuple, str] = {}

    def link(store, key, kind):
        if store.get(key) != "sold":
            store[key] = kind

    for index, person in enumerate(people):
        for dealer_id, kind in person.links.items():
            link(customer_links, (dealer_id, index), kind)
    plans = planner.vehicles
    for number, plan in enumerate(plans):
        link(vehicle_links, (plan.dealer.pk, number), "sold")
        link(customer_links, (plan.dealer.pk, plan.owner), "sold")
        if plan.previous_owner is not None:
            link(customer_links, (plan.dealer.pk, plan.previous_owner), "sold")
        for visit in plan.visits:
            link(vehicle_links, (visit.dealer.pk, number), "serviced")
            link(customer_links, (visit.dealer.pk, visit.owner), "serviced")
    # whoever owns the car now is known to every dealer that knows the car
    for dealer_id, number in list(vehicle_links):
        link(customer_links, (dealer_id, plans[number].owner), "serviced")
    DealerVehicle.objects.bulk_create(
        [
            DealerVehicle(dealer_id=dealer_id, vehicle=plans[number].obj, kind=kind)
            for (dealer_id, number), kind in vehicle_links.items()
        ],
        batch_size=1000,
    )
    DealerCustomer.objects.bulk_create(
        [
            DealerCustomer(dealer_id=dealer_id, customer=people[index].obj, kind=kind)
            for (dealer_id, index), kind in customer_links.items()
        ],
        batch_size=1000,
    )
    CustomerTag.objects.bulk_create([CustomerTag(name=n) for n in TAGS], ignore_conflicts=True)
    tag_ids = dict(CustomerTag.objects.filter(name__in=TAGS).values_list("name", "id"))
    through = Customer.tags.through
    through.objects.bulk_create(
        [
            through(customer_id=person.obj.pk, customertag_id=tag_ids[name])
            for person in people
            for name in sorted(person.tags)
        ],
        batch_size=1000,
    )
