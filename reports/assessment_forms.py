"""The scoring scheme's form: scored kinds, and each indicator's weight, cap and missing policy.

Numbers are read here so that a refusal names the indicator, the field and what was typed
("完成率的分值“abc”不是数字"); the ranges are reports.assessment.scheme_errors', which the
service applies again.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.models import OrgKind

from .assessment import INDICATORS, Rule, Scheme, scheme_errors
from .assessment_exports import plain_number
from .models import SCORABLE_KINDS, MissingPolicy

FIELD_WORDS = {"weight": gettext_lazy("分值"), "cap": gettext_lazy("满分标准")}


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().rstrip("%").replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class SchemeForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("参加考核的单位类型"),
        choices=[(k, label) for k, label in OrgKind.choices if k in SCORABLE_KINDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("单位类型“%(value)s”不能参加考核。")},
    )

    def __init__(self, *args, scheme: Scheme, **kwargs):
        initial = {"kinds": list(scheme.kinds)}
        for rule in scheme.rules:
            initial[f"{rule.key}_weight"] = plain_number(rule.weight)
            initial[f"{rule.key}_cap"] = plain_number(rule.cap)
            initial[f"{rule.key}_missing"] = rule.missing
        super().__init__(*args, initial=initial, **kwargs)
        for indicator in INDICATORS:
            unit = "%" if indicator.scale == "rate" else ""
            for part, word in FIELD_WORDS.items():
                words = {"indicator": indicator.label, "field": word}
                self.fields[f"{indicator.key}_{part}"] = forms.CharField(
                    label=_("%(indicator)s%(field)s") % words,
                    max_length=20,
                    help_text=unit if part == "cap" else "",
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 7}),
                    error_messages={
                        "required": _("请填写%(indicator)s的%(field)s。") % words,
                        "max_length": _("%(indicator)s的%(field)s太长。") % words,
                    },
                )
            self.fields[f"{indicator.key}_missing"] = forms.ChoiceField(
                label=_("%(label)s无数据时") % {"label": indicator.label},
                choices=MissingPolicy.choices,
                error_messages={
                    "required": _("请选择%(label)s无数据时的处理。") % {"label": indicator.label},
                    "invalid_choice": _("%(label)s无数据时的处理“%%(value)s”无效。")
                    % {"label": indicator.label},
                },
            )
        self.scheme: Scheme | None = None

    def rows(self) -> list[dict]:
        """One row per indicator for the template's table."""
        return [
            {
                "indicator": i,
                "weight": self[f"{i.key}_weight"],
                "cap": self[f"{i.key}_cap"],
                "missing": self[f"{i.key}_missing"],
            }
            for i in INDICATORS
        ]

    def clean(self):
        cleaned = super().clean()
        rules, broken = [], False
        for indicator in INDICATORS:
            numbers = {}
            for part in ("weight", "cap"):
                name = f"{indicator.key}_{part}"
                text = cleaned.get(name)
                if text is None:  # already refused (empty, too long)
                    broken = True
                    continue
                value = _number(text)
                if value is None:
                    self.add_error(
                        name,
                        _("%(indicator)s的%(field)s“%(value)s”不是数字。")
                        % {
                            "indicator": indicator.label,
                            "field": FIELD_WORDS[part],
                            "value": text[:20],
                        },
                    )
                    broken = True
                elif value != value.quantize(Decimal("0.01")):
                    self.add_error(
                        name,
                        _("%(indicator)s的%(field)s“%(value)s”最多保留两位小数。")
                        % {
                            "indicator": indicator.label,
                            "field": FIELD_WORDS[part],
                            "value": text[:20],
                        },
                    )
                    broken = True
                else:
                    numbers[part] = value
            missing = cleaned.get(f"{indicator.key}_missing")
            if len(numbers) == 2 and missing:
                rules.append(Rule(indicator.key, numbers["weight"], numbers["cap"], missing))
            else:
                broken = True
        kinds = cleaned.get("kinds") or []
        if broken:
            return cleaned
        for name, message in scheme_errors(kinds=kinds, rules=rules):
            self.add_error(name or None, message)
        if not self.errors:
            self.scheme = Scheme(kinds=[k for k in SCORABLE_KINDS if k in kinds], rules=rules)
        return cleaned
