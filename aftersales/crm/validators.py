"""Normalising and validating the identifiers of people and cars: mainland mobile numbers,
resident ID numbers (GB 11643), VINs (ISO 3779 with the check digit China requires) and
mainland plate numbers. Each ``normalise_*`` returns the canonical form or raises a
``ValidationError`` whose message says what is wrong."""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

_SEPARATORS = re.compile(r"[\s\-·.•_]")

# ---------------------------------------------------------------- mobile


def normalise_mobile(value: str) -> str:
    raw = _SEPARATORS.sub("", str(value or ""))
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    if not raw.isdigit():
        raise ValidationError(_("A mobile number has digits only."), code="mobile_format")
    if len(raw) != 11:
        raise ValidationError(
            _("A mobile number has 11 digits, not %(n)d.") % {"n": len(raw)},
            code="mobile_length",
        )
    if not re.fullmatch(r"1[3-9]\d{9}", raw):
        raise ValidationError(
            _("A mainland mobile number starts with 13-19."), code="mobile_prefix"
        )
    return raw


def mask_mobile(mobile: str) -> str:
    """138****1234: enough to recognise a number, not to call it."""
    if not mobile or len(mobile) < 8:
        return mobile or ""
    return f"{mobile[:3]}****{mobile[-4:]}"


# ---------------------------------------------------------------- resident ID


def normalise_id_number(value: str) -> str:
    raw = _SEPARATORS.sub("", str(value or "")).upper()
    if len(raw) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters, not %(n)d.") % {"n": len(raw)},
            code="id_length",
        )
    if not re.fullmatch(r"\d{17}[\dX]", raw):
        raise ValidationError(
            _("A resident ID number has 17 digits and then a digit or X."), code="id_format"
        )
    try:
        ric.get_birth_date(raw)
    except stdnum_errors.ValidationError:
        raise ValidationError(
            _("The birth date in this ID number (%(d)s) is not a real date.") % {"d": raw[6:14]},
            code="id_birth_date",
        ) from None
    expected = ric.calc_check_digit(raw)
    if raw[17] != expected:
        raise ValidationError(
            _("ID number check digit should be %(expected)s, not %(given)s.")
            % {"expected": expected, "given": raw[17]},
            code="id_check_digit",
        )
    if not _region_existed(raw[:6], raw[6:10]):
        raise ValidationError(
            _("The region code of this ID number (%(code)s) does not exist.") % {"code": raw[:6]},
            code="id_region",
        )
    return raw


@functools.lru_cache(maxsize=16384)
def _region_existed(region: str, year: str) -> bool:
    """Was the region code assigned in that birth year? python-stdnum's look-up reads its
    region database on every call (about 50 µs); an import checks 100,000 numbers that
    share a few thousand (region, year) pairs, so the answers are remembered."""
    probe = f"{region}{year}0101001"
    try:
        ric.get_birth_place(probe + ric.calc_check_digit(probe + "0"))
    except stdnum_errors.ValidationError:
        return False
    return True


def id_birth_date(id_number: str) -> datetime.date:
    return ric.get_birth_date(id_number)


def id_gender(id_number: str) -> str:
    """``"m"`` or ``"f"``: the 17th digit is odd for men."""
    return "m" if int(id_number[16]) % 2 else "f"


def mask_id_number(id_number: str) -> str:
    """110105********123X: first 6 and last 4 visible."""
    if not id_number:
        return ""
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"


# ---------------------------------------------------------------- VIN

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 check digit (position 9) of a 17-character VIN: weighted sum modulo 11,
    10 written as X."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalise_vin(value: str) -> str:
    raw = _SEPARATORS.sub("", str(value or "")).upper()
    if len(raw) != 17:
        raise ValidationError(
            _("A VIN has 17 characters, not %(n)d.") % {"n": len(raw)}, code="vin_length"
        )
    forbidden = sorted(set(raw) & set("IOQ"))
    if forbidden:
        raise ValidationError(
            _("A VIN never contains the letters I, O or Q (found %(letters)s).")
            % {"letters": ", ".join(forbidden)},
            code="vin_letters",
        )
    bad = sorted({c for c in raw if c not in _VIN_VALUES})
    if bad:
        raise ValidationError(
            _("A VIN has only capital letters and digits (found %(chars)s).")
            % {"chars": " ".join(bad)},
            code="vin_characters",
        )
    expected = vin_check_digit(raw)
    if raw[8] != expected:
        raise ValidationError(
            _("VIN check digit (9th character) should be %(expected)s, not %(given)s.")
            % {"expected": expected, "given": raw[8]},
            code="vin_check_digit",
        )
    return raw


# ---------------------------------------------------------------- plate

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # plate letters: no I or O
_PLATE_PATTERNS = (
    # ordinary blue/yellow plate: 京A12345, 粤B1234挂
    re.compile(rf"^[{PROVINCES}][{_L}][{_L}0-9]{{4}}[{_L}0-9挂学警港澳]$"),
    # new-energy small car (8 characters): 京AD12345, 沪AF1A234
    re.compile(rf"^[{PROVINCES}][{_L}][ABCDEFGHJK][{_L}0-9][0-9]{{4}}$"),
    # new-energy large vehicle: 京A12345D
    re.compile(rf"^[{PROVINCES}][{_L}][0-9]{{5}}[DF]$"),
)


def normalise_plate(value: str) -> str:
    raw = _SEPARATORS.sub("", str(value or "")).upper()
    if not raw:
        raise ValidationError(_("Enter a plate number."), code="plate_empty")
    if raw[0] not in PROVINCES:
        raise ValidationError(
            _("A plate starts with a province character such as 京, 沪 or 粤."),
            code="plate_province",
        )
    if len(raw) not in (7, 8):
        raise ValidationError(
            _("A plate has 7 characters (8 for new-energy vehicles), not %(n)d.") % {"n": len(raw)},
            code="plate_length",
        )
    if any(c in "IO" for c in raw[1:]):
        raise ValidationError(
            _("Plates never use the letters I or O; did you mean 1 or 0?"), code="plate_letters"
        )
    if not any(p.match(raw) for p in _PLATE_PATTERNS):
        raise ValidationError(
            _("%(plate)s is not a valid mainland plate number.") % {"plate": raw},
            code="plate_format",
        )
    return raw


def is_new_energy_plate(plate: str) -> bool:
    return len(plate) == 8


# VIN position 10: the model year (ISO 3779 cycle of 30 codes, no I O Q U Z 0)
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def vin_year_code(year: int) -> str:
    return VIN_YEAR_CODES[(year - 1980) % 30]


def compose_vin(prefix8: str, model_year: int, plant: str, serial: int) -> str:
    """A valid VIN from a catalogue prefix (positions 1-8), model year, plant letter and a
    6-digit serial: the check digit (position 9) is computed."""
    body = f"{prefix8}0{vin_year_code(model_year)}{plant}{serial:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]
