"""The form of the integrity scan's thresholds (核查设置)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IntegritySettings

# The thresholds as the page groups them; the sensitivity has a fieldset of its own.
GROUPS = [
    (
        _("集中提交"),
        ["burst_minutes", "burst_address_min", "device_minutes", "burst_device_min"],
    ),
    (
        _("注册即评、秒填一致、建议雷同"),
        [
            "quick_seconds",
            "fast_seconds",
            "straight_min_items",
            "identical_min",
            "identical_min_length",
            "unit_min",
        ],
    ),
]


class IntegritySettingsForm(forms.ModelForm):
    class Meta:
        model = IntegritySettings
        fields = [*(name for _label, names in GROUPS for name in names), "sensitivity"]
        widgets = {"sensitivity": forms.RadioSelect}

    def groups(self):
        return [(label, [self[name] for name in names]) for label, names in GROUPS]
