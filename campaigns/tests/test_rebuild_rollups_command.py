"""rebuild_rollups finds and mends rollups that drifted (say, after a raw database edit)."""

from io import StringIO

import pytest
from django.core.management import call_command

from orgs.models import ReportedMembers

pytestmark = pytest.mark.django_db


def test_drift_is_reported_then_mended(world):
    ReportedMembers.objects.filter(org=world.park).update(count=400)  # behind the services' back
    out = StringIO()
    call_command("rebuild_rollups", "--dry-run", stdout=out)
    assert "2022年会员网上评议：" in out.getvalue() and "2 个与已存汇总不一致" in out.getvalue()
    assert world.campaign.rollups.get(org=world.park).reported == 381

    call_command("rebuild_rollups", campaign="2022年会员网上评议", stdout=out)
    assert world.campaign.rollups.get(org=world.park).target == 280  # 400 × 70%
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "0 个与已存汇总不一致" in out.getvalue()
