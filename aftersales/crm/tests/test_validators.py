"""Identifiers of people and cars: each bad value is refused with a message that says what
is wrong; good values come back in their one canonical form."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from stdnum.cn import ric

from aftersales.crm.testing import valid_id_number, valid_vin
from aftersales.crm.validators import (
    compose_vin,
    id_birth_date,
    id_gender,
    mask_id_number,
    mask_mobile,
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
    normalise_vin,
    vin_check_digit,
)


@pytest.fixture(autouse=True)
def _english():
    # the messages are asserted in English whatever the translations say
    with translation.override("en"):
        yield


def refused(func, value) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        func(value)
    return caught.value


# ---------------------------------------------------------------- VIN


def test_a_known_real_world_vin_passes_the_iso_3779_check():
    # given a VIN whose check digit is published (the textbook example 1M8GDM9AXKP042788)
    # when it is normalised, then it is accepted: the check digit X stands for 10
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert normalise_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"


def test_vin_in_lower_case_with_spaces_is_normalised():
    # given a valid VIN typed in lower case with spaces and a dash
    vin = valid_vin()
    typed = f" {vin[:3].lower()} {vin[3:9].lower()}-{vin[9:].lower()} "
    # when normalised, then it is the upper-case 17 characters
    assert normalise_vin(typed) == vin


def test_vin_with_a_wrong_check_digit_names_the_expected_digit():
    # given a valid VIN with its 9th character changed
    vin = valid_vin()
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    # when normalised
    error = refused(normalise_vin, wrong)
    # then the message names the digit it should be and the one given
    assert error.code == "vin_check_digit"
    assert error.messages == [
        f"VIN check digit (9th character) should be {vin[8]}, not {wrong[8]}."
    ]


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_vin_with_i_o_or_q_is_refused_naming_the_letter(letter):
    # given a VIN with a forbidden letter in the serial part
    vin = valid_vin()
    bad = vin[:12] + letter + vin[13:]
    # when normalised, then the letter is named
    error = refused(normalise_vin, bad)
    assert error.code == "vin_letters"
    assert f"(found {letter})" in error.messages[0]


@pytest.mark.parametrize("length", [16, 18])
def test_vin_of_the_wrong_length_says_how_long_it_was(length):
    # given a VIN one character short or long
    vin = (valid_vin() + "1")[:length]
    # when normalised, then the length is named
    error = refused(normalise_vin, vin)
    assert error.code == "vin_length"
    assert error.messages == [f"A VIN has 17 characters, not {length}."]


def test_vin_with_other_characters_is_refused():
    # given a VIN with a Chinese character in it
    bad = valid_vin()[:16] + "京"
    # when normalised, then the odd character is named
    error = refused(normalise_vin, bad)
    assert error.code == "vin_characters"
    assert "京" in error.messages[0]


def test_composed_vins_carry_their_year_code_and_a_valid_check_digit():
    # given the catalogue prefix of a 2024 model
    vin = compose_vin("LXCX3A15", 2024, "B", 42)
    # then position 10 is the 2024 code R, the serial ends it and the VIN validates
    assert vin[9] == "R" and vin.endswith("000042")
    assert normalise_vin(vin) == vin


# ---------------------------------------------------------------- plates


@pytest.mark.parametrize(
    "typed, plate",
    [
        ("京a12345", "京A12345"),  # ordinary, lower case
        ("粤B 1234挂", "粤B1234挂"),  # trailer
        ("沪AD12345", "沪AD12345"),  # new-energy small car, 8 characters
        ("京AFA1234", "京AFA1234"),  # new-energy small car with a letter in 4th place
        ("浙A12345D", "浙A12345D"),  # new-energy large vehicle
        ("苏E·D56789", "苏ED56789"),  # new-energy small car, written with a dot
        ("川A-12345", "川A12345"),
    ],
)
def test_mainland_plates_are_accepted_and_normalised(typed, plate):
    assert normalise_plate(typed) == plate


@pytest.mark.parametrize(
    "plate, code",
    [
        ("A123456", "plate_province"),  # no province character
        ("港A12345", "plate_province"),  # not a mainland province
        ("台A12345", "plate_province"),
        ("京A1234", "plate_length"),  # 6 characters
        ("京A123456789", "plate_length"),
        ("京AI2345", "plate_letters"),  # I in the serial
        ("京O12345", "plate_letters"),  # O as the authority letter
        ("京1A2345", "plate_format"),  # the second character is a letter
        ("京AZ12345", "plate_format"),  # Z is not a new-energy letter
        ("京A12345X", "plate_format"),  # large NEV ends in D or F
    ],
)
def test_bad_plates_are_refused_with_the_reason(plate, code):
    error = refused(normalise_plate, plate)
    assert error.code == code


def test_plate_messages_say_what_is_wrong():
    assert refused(normalise_plate, "").messages == ["Enter a plate number."]
    assert refused(normalise_plate, "京A1234").messages == [
        "A plate has 7 characters (8 for new-energy vehicles), not 6."
    ]
    assert "1 or 0" in refused(normalise_plate, "京AI2345").messages[0]


# ---------------------------------------------------------------- mobiles


@pytest.mark.parametrize(
    "typed",
    ["13912345678", "+86 139 1234 5678", "0086-139-1234-5678", " 139 1234 5678 ", "+8613912345678"],
)
def test_mobiles_are_normalised_to_11_digits(typed):
    assert normalise_mobile(typed) == "13912345678"


def test_a_12_digit_mobile_is_refused_naming_the_length():
    error = refused(normalise_mobile, "139123456789")
    assert error.code == "mobile_length"
    assert error.messages == ["A mobile number has 11 digits, not 12."]


@pytest.mark.parametrize("mobile", ["12012345678", "11012345678", "23912345678"])
def test_a_mobile_outside_13_19_is_refused(mobile):
    error = refused(normalise_mobile, mobile)
    assert error.code == "mobile_prefix"
    assert error.messages == ["A mainland mobile number starts with 13-19."]


def test_a_mobile_with_letters_is_refused():
    assert refused(normalise_mobile, "1391234567a").code == "mobile_format"
    assert refused(normalise_mobile, "").code == "mobile_format"


# ---------------------------------------------------------------- resident ID numbers


def test_a_valid_id_number_gives_birthday_and_gender():
    # given a valid number of a man born 1985-06-15 (17th digit 3 is odd)
    number = valid_id_number(datetime.date(1985, 6, 15), seq=123)
    # when normalised, then it is unchanged and its birthday and gender are read off it
    assert normalise_id_number(number) == number
    assert id_birth_date(number) == datetime.date(1985, 6, 15)
    assert id_gender(number) == "m"
    assert id_gender(valid_id_number(seq=124)) == "f"


def test_a_lower_case_x_check_character_is_accepted_as_upper_case():
    # given a number whose check character is X (sequence 009 gives one)
    number = valid_id_number(seq=9)
    assert number.endswith("X")
    # when typed with a lower-case x and spaces, then it is the upper-case number
    assert normalise_id_number(f"{number[:6]} {number[6:14]} {number[14:].lower()}") == number


def test_a_wrong_check_digit_names_the_expected_one():
    # given a valid number with its last character changed
    number = valid_id_number()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    # when normalised
    error = refused(normalise_id_number, wrong)
    # then the message says what the check character should be
    assert error.code == "id_check_digit"
    assert error.messages == [f"ID number check digit should be {number[17]}, not {wrong[17]}."]


def test_an_impossible_birth_date_is_refused_naming_it():
    # given a number claiming to be born on 30 February (check digit made valid)
    body = "11010519850230123"
    number = body + ric.calc_check_digit(body + "0")
    # when normalised, then the date is named
    error = refused(normalise_id_number, number)
    assert error.code == "id_birth_date"
    assert "19850230" in error.messages[0]


@pytest.mark.parametrize(
    "value, code",
    [
        ("11010519850615123", "id_length"),
        ("1101051985061512345", "id_length"),
        ("11010519850615A234", "id_format"),
    ],
)
def test_id_numbers_of_the_wrong_shape_are_refused(value, code):
    assert refused(normalise_id_number, value).code == code


# ---------------------------------------------------------------- masking


def test_masks_show_enough_to_recognise_but_not_to_use():
    assert mask_mobile("13912345678") == "139****5678"
    assert mask_mobile("") == ""
    assert mask_id_number("11010519850615123X") == "110105********123X"
    assert mask_id_number("") == ""
