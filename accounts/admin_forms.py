"""Forms of the console's admin-account pages."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleKind, User
from orgs.models import Org


class NewAdminForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("用户名"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=gettext_lazy("字母、数字或 @ . + - _，登录时使用"),
    )
    display_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50, required=False)
    org_code = forms.CharField(
        label=gettext_lazy("所属工会组织代码"),
        max_length=32,
        help_text=gettext_lazy("在“组织与目标”页可查到各组织的代码"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("角色"))

    def __init__(self, *args, kinds: list[str], orgs_in_scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, RoleKind(k).label) for k in kinds]
        self.orgs_in_scope = orgs_in_scope

    def clean_org_code(self) -> Org:
        code = self.cleaned_data["org_code"].strip()
        org = self.orgs_in_scope.filter(code=code).first()
        if org is None:
            raise forms.ValidationError(
                _("组织代码“%(code)s”不存在，或不在您的管理范围内。") % {"code": code}
            )
        return org

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(
                _("用户名“%(username)s”已被使用，请换一个。") % {"username": username}
            )
        return username
