"""The default need categories and their keywords (analysis/data/default_rules.json)."""

import json
from pathlib import Path

from django.db import migrations

RULES = Path(__file__).resolve().parent.parent / "data" / "default_rules.json"


def seed(apps, schema_editor):
    NeedRule = apps.get_model("analysis", "NeedRule")
    for position, rule in enumerate(json.loads(RULES.read_text(encoding="utf-8")), start=1):
        NeedRule.objects.update_or_create(
            org=None,
            name=rule["name"],
            defaults={"keywords": rule["keywords"], "position": position},
        )


def unseed(apps, schema_editor):
    apps.get_model("analysis", "NeedRule").objects.filter(org=None).delete()


class Migration(migrations.Migration):
    dependencies = [("analysis", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
