"""Forms of the campaign pages."""

from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.models import OrgKind

from .models import DEFAULT_TRACE_RETENTION_DAYS, NegativeRule


def _window_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _window_end(day) -> datetime:
    # The last day counts whole: the window closes at 24:00 of the end date.
    return timezone.make_aware(datetime.combine(day, time.max))


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("活动名称"), max_length=100)
    year = forms.IntegerField(label=gettext_lazy("统计年度"), min_value=2000, max_value=2100)
    start_date = forms.DateField(
        label=gettext_lazy("开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=gettext_lazy("结束日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("含当日，至 24:00 截止"),
    )
    negative_rule = forms.ChoiceField(label=gettext_lazy("差评规则"), choices=NegativeRule.choices)
    verify_days = forms.IntegerField(
        label=gettext_lazy("核实时限（工作日）"), min_value=1, max_value=60, initial=1
    )
    rectify_days = forms.IntegerField(
        label=gettext_lazy("整改答复时限（工作日）"), min_value=1, max_value=120, initial=15
    )
    trace_retention_days = forms.IntegerField(
        label=gettext_lazy("提交痕迹保留天数"),
        min_value=1,
        max_value=730,
        initial=DEFAULT_TRACE_RETENTION_DAYS,
        required=False,
        help_text=gettext_lazy(
            "评议结束后，网络地址和设备标识仅为核查异常评议保留这么多天，到期自动删除；"
            "留空为 180 天"
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in OrgKind.choices:
            self.fields[f"rate_{kind}"] = forms.DecimalField(
                label=_("%(kind)s目标比例（%%）") % {"kind": label},
                min_value=Decimal("0"),
                max_value=Decimal("100"),
                decimal_places=2,
                required=False,
                help_text=_("留空：该类组织不按比例计算目标"),
            )

    def clean_trace_retention_days(self) -> int:
        """Left empty: the default, as the field's help says."""
        return self.cleaned_data.get("trace_retention_days") or DEFAULT_TRACE_RETENTION_DAYS

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date",
                _("结束日期 %(end)s 早于开始日期 %(start)s。")
                % {"end": f"{end:%Y-%m-%d}", "start": f"{start:%Y-%m-%d}"},
            )
        return data

    @property
    def rate_fields(self):
        return [self[f"rate_{kind}"] for kind in OrgKind.values]

    @property
    def main_fields(self):
        return [f for f in self if not f.name.startswith("rate_")]

    def window(self) -> tuple[datetime, datetime]:
        return _window_start(self.cleaned_data["start_date"]), _window_end(
            self.cleaned_data["end_date"]
        )

    def rates(self) -> dict[str, Decimal | None]:
        out = {}
        for kind in OrgKind.values:
            percent = self.cleaned_data.get(f"rate_{kind}")
            out[kind] = None if percent is None else percent / Decimal(100)
        return out
