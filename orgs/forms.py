"""Forms of the org pages."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Org, OrgKind
from .selectors import children_of
from .services import normalize_org_name


class OrgForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=OrgKind.choices)
    seq = forms.IntegerField(label=gettext_lazy("序号"), min_value=0, required=False)
    reported_members = forms.IntegerField(
        label=gettext_lazy("年报工会会员人数"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("留空表示按下级单位合计"),
    )
    target = forms.IntegerField(
        label=gettext_lazy("参评目标工会会员数"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("留空表示按活动的目标比例计算"),
    )

    def __init__(self, *args, parent: Org | None, instance: Org | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent = parent
        self.instance = instance

    def clean_name(self) -> str:
        name = normalize_org_name(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("名称不能为空。"))
        if self.parent is not None:
            siblings = children_of(self.parent).filter(name=name)
            if self.instance is not None:
                siblings = siblings.exclude(pk=self.instance.pk)
            if siblings.exists():
                raise forms.ValidationError(
                    _("“%(parent)s”下已有名为“%(name)s”的组织。")
                    % {"parent": self.parent.name, "name": name}
                )
        return name

    def clean(self):
        data = super().clean()
        reported, target = data.get("reported_members"), data.get("target")
        if reported is not None and target is not None and target > reported:
            self.add_error(
                "target",
                _("参评目标 %(target)s 人超过年报工会会员人数 %(reported)s 人。")
                % {"target": target, "reported": reported},
            )
        return data
