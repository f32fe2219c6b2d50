"""ID numbers, names and phones as the roster accepts them (GB 11643-1999)."""

from datetime import date

import pytest

from conftest import fake_id_number
from members.identity import (
    IdentityError,
    Sex,
    check_digit,
    mask_id_number,
    mask_mobile,
    parse_id_number,
    parse_mobile,
    parse_name,
)

# A number from GB 11643-1999's own example.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_is_valid_and_female():
    parsed = parse_id_number(STANDARD_EXAMPLE)

    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == Sex.FEMALE


def test_lower_case_x_full_width_digits_and_spaces_are_normalised():
    typed = "１１０１０５ 1949 1231 002x"

    assert parse_id_number(typed).number == STANDARD_EXAMPLE


def test_fifteen_digit_number_becomes_eighteen():
    parsed = parse_id_number("110105491231002")

    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.converted_from_15


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("3.21081E+17", "科学计数法"),
        (3.21081199003071e17, "存成了数字"),
        ("", "为空"),
        ("3210811990030712", "18 位"),
        ("32108119900307123Y", "前 17 位"),
        ("991081199003071230", "地区码"),
        ("321081199002301234", "出生日期不存在"),
        ("321081209901011234", "出生日期不合理"),
        ("110105194912310021", "校验位"),
    ],
)
def test_bad_id_numbers_are_refused_with_the_reason(value, words):
    with pytest.raises(IdentityError) as refused:
        parse_id_number(value)

    assert words in str(refused.value)


def test_refusal_never_repeats_the_number():
    with pytest.raises(IdentityError) as refused:
        parse_id_number("110105194912310021")

    assert "110105194912310021" not in str(refused.value)


def test_check_digit_of_composed_numbers():
    number = fake_id_number(7)

    assert number[-1] == check_digit(number[:17])
    assert parse_id_number(number).sex == Sex.MALE


def test_masks():
    assert mask_id_number(STANDARD_EXAMPLE) == "1101**********002X"
    assert mask_mobile("13905141234") == "139****1234"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" 李 华 ", "李华"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
    ],
)
def test_names_are_trimmed_and_the_middle_dot_kept(typed, stored):
    assert parse_name(typed) == stored


def test_name_with_digits_is_refused():
    with pytest.raises(IdentityError, match="汉字"):
        parse_name("李华2")


@pytest.mark.parametrize("typed", ["139 0514 1234", "+86 139-0514-1234", "１３９０５１４１２３４"])
def test_mobile_numbers_are_normalised(typed):
    assert parse_mobile(typed) == "13905141234"


@pytest.mark.parametrize("typed", ["1390514123", "23905141234", "0514-8888888"])
def test_bad_mobile_numbers_are_refused(typed):
    with pytest.raises(IdentityError):
        parse_mobile(typed)
