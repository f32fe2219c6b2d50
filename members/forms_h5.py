"""Forms of the member pages: registration and login by phone and one-time code.

Each field is parsed by members.identity, so a bad value gets the same Chinese message on the
page as from the API. With `sending=True` (the 获取验证码 button) only the phone is required.
"""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .identity import IdentityError, parse_id_number, parse_mobile, parse_name


def _parsed(parser, value: str):
    if not value:
        return value
    try:
        return parser(value)
    except IdentityError as error:
        raise forms.ValidationError(str(error)) from None


class _CodeForm(forms.Form):
    phone = forms.CharField(
        label=_lazy("手机号码"),
        max_length=20,
        error_messages={"required": _lazy("请填写手机号码")},
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": _lazy("11 位手机号")}
        ),
    )
    code = forms.CharField(
        label=_lazy("验证码"),
        max_length=10,
        error_messages={"required": _lazy("请填写短信验证码")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "placeholder": _lazy("短信验证码"),
            }
        ),
    )

    def __init__(self, *args, sending: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sending = sending
        if sending:
            for name, field in self.fields.items():
                field.required = name == "phone"

    def clean_phone(self) -> str:
        return _parsed(parse_mobile, self.cleaned_data["phone"])

    def clean_code(self) -> str:
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if self.sending:
            return ""
        length = settings.PINGYI_OTP_LENGTH
        if not (code.isdigit() and len(code) == length):
            raise forms.ValidationError(_("验证码应为 %(length)d 位数字") % {"length": length})
        return code


class RegisterForm(_CodeForm):
    name = forms.CharField(
        label=_lazy("姓名"),
        max_length=60,
        error_messages={"required": _lazy("请填写姓名")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _lazy("真实姓名")}),
    )
    id_number = forms.CharField(
        label=_lazy("身份证号码"),
        max_length=30,
        error_messages={"required": _lazy("请填写身份证号码")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": _lazy("18 位")}
        ),
    )

    field_order = ["name", "id_number", "phone", "code"]

    def clean_name(self) -> str:
        return _parsed(parse_name, self.cleaned_data["name"])

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"]
        return _parsed(parse_id_number, value).number if value else value


class LoginForm(_CodeForm):
    pass
