"""A person's identity as the roster holds it: ID number (GB 11643-1999), name and mobile number.

Each parse_* function takes what a person or a spreadsheet typed, normalises it (full-width
digits, spaces, lower-case x) and returns the canonical value, or raises IdentityError with a
message in Chinese that says what is wrong without repeating the value.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

# GB 11643-1999: the 18th character checks the first 17 (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# The provinces of GB/T 2260 (the first two digits of every ID number's address code).
PROVINCE_CODES = frozenset(
    {*map(str, range(11, 16)), *map(str, range(21, 24)), *map(str, range(31, 38))}
    | {*map(str, range(41, 47)), *map(str, range(50, 55)), *map(str, range(61, 66))}
    | {"71", "81", "82"}
)
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
# What Excel shows after storing an 18-digit number as a float: 3.21081E+17, 3.21081e17 …
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d+$", re.IGNORECASE)
_MIDDLE_DOTS = re.compile(r"[•・‧∙⋅．.]")
_NAME_CHARACTERS = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f·A-Za-z]+$")
MAX_NAME_LENGTH = 50


class IdentityError(ValueError):
    """A value cannot be an ID number, name or phone; str() is the message for the user."""


class Sex:
    MALE = "M"
    FEMALE = "F"


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, the last a digit or X
    birth_date: date
    sex: str  # Sex.MALE or Sex.FEMALE
    converted_from_15: bool = False

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_text(value: object) -> str:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return _SPACES.sub("", text).upper()


def parse_id_number(value: object, *, today: date | None = None) -> IdNumber:
    """Check an ID number by GB 11643-1999 and return it with the birth date and sex it holds.

    A float (what a spreadsheet cell becomes when the column is not text) is refused: its last
    digits are already lost.
    """
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        raise IdentityError(
            _("身份证号码被表格存成了数字，末几位已丢失；请把该列设为文本格式后重新填写")
        )
    text = normalize_id_text(value)
    if not text:
        raise IdentityError(_("身份证号码为空"))
    if _SCIENTIFIC.match(text):
        raise IdentityError(
            _(
                "身份证号码被 Excel 转成了科学计数法（如 3.21081E+17），末几位已丢失；"
                "请把该列设为文本格式后重新填写"
            )
        )
    converted = False
    if len(text) == 15:
        if not text.isdigit():
            raise IdentityError(_("15 位身份证号码只能由数字组成"))
        first17 = f"{text[:6]}19{text[6:]}"
        text = first17 + check_digit(first17)
        converted = True
    if len(text) != 18:
        raise IdentityError(
            _("身份证号码应为 18 位（或 15 位旧号码），这里是 %(count)d 位") % {"count": len(text)}
        )
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdentityError(_("身份证号码前 17 位应为数字，最后一位为数字或 X"))
    if text[:2] not in PROVINCE_CODES:
        raise IdentityError(_("身份证号码的地区码不存在（前两位 %(code)s）") % {"code": text[:2]})
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise IdentityError(_("身份证号码中的出生日期不存在")) from None
    today = today or timezone.localdate()
    if birth > today or birth.year < 1900:
        raise IdentityError(_("身份证号码中的出生日期不合理"))
    if check_digit(text[:17]) != text[17]:
        raise IdentityError(_("身份证号码校验位不正确，请核对每一位数字"))
    sex = Sex.MALE if int(text[16]) % 2 else Sex.FEMALE
    return IdNumber(number=text, birth_date=birth, sex=sex, converted_from_15=converted)


def mask_id_number(number: str) -> str:
    """3210**********123X: the region's first four and the last four characters."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def parse_name(value: object) -> str:
    """A person's name: trimmed, inner spaces dropped, every middle-dot variant made ·."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = _SPACES.sub("", text)
    text = _MIDDLE_DOTS.sub("·", text).strip("·")
    if not text:
        raise IdentityError(_("姓名为空"))
    if len(text) > MAX_NAME_LENGTH:
        raise IdentityError(_("姓名超过 %(max)d 个字") % {"max": MAX_NAME_LENGTH})
    if not _NAME_CHARACTERS.match(text):
        raise IdentityError(_("姓名只能包含汉字、字母和间隔号 ·"))
    return text


def parse_mobile(value: object) -> str:
    """A mainland mobile number of 11 digits; +86, spaces and hyphens are dropped."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an 11-digit number survives a float; no digit is lost
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = re.sub(r"[\s\-()]+", "", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not text:
        raise IdentityError(_("手机号码为空"))
    if not text.isdigit() or len(text) != 11:
        raise IdentityError(_("手机号码应为 11 位数字"))
    if not re.match(r"^1[3-9]", text):
        raise IdentityError(_("手机号码应以 13–19 开头"))
    return text


def mask_mobile(number: str) -> str:
    """139****1234."""
    if len(number) != 11:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


def compose_id_number(*, region: str, birth_date: date, sequence: int) -> str:
    """The 18-character number for a region code, a birth date and a 3-digit sequence (odd = man).

    Used for the demo's fictitious members and in tests; never to guess a real person's.
    """
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)
