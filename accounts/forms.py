"""Forms of the accounts pages."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from . import throttle


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入（注意区分大小写）。"),
        "inactive": _("该账号已停用，请联系上级工会管理员。"),
        "locked": _("登录失败次数过多，请 15 分钟后再试；忘记密码请联系上级工会管理员重置。"),
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        address = throttle.client_address(self.request)
        if throttle.is_locked(username=username, address=address):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username=username, address=address)
            raise
        throttle.clear_failures(username=username)
        return cleaned
