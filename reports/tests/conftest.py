"""Fixtures of the reports app's tests."""

# ---- progress figures (reports/figures.py): counts straight from the tables, and a small world

from datetime import date, datetime

import pytest
from django.utils import timezone

from conftest import SHANGHAI, fake_id_number, register_member_account


def evaluation_days(campaign) -> list[tuple[str, date]]:
    """(path of the union at submission, local day) of every evaluation, row by row."""
    from evaluations.models import Evaluation

    rows = Evaluation.objects.filter(campaign=campaign).values_list("org__path", "submitted_at")
    return [(path, timezone.localtime(at).date()) for path, at in rows]


def straight_evaluated(
    campaign, org, until: date, since: date | None = None, rows: list | None = None
) -> int:
    """Evaluations of the org's subtree (by the union at submission), counted row by row."""
    rows = evaluation_days(campaign) if rows is None else rows
    return sum(
        1
        for path, d in rows
        if path.startswith(org.path) and d <= until and (since is None or d >= since)
    )


def registered_paths(until: date) -> list[str]:
    """Path of the union of each registered active member at the end of `until`, row by row:
    a member who moved later counts where they were then (the transfer log says where)."""
    from members.models import Member, MemberStatus

    paths = []
    members = Member.objects.filter(registered_at__isnull=False, status=MemberStatus.ACTIVE)
    for member in members.select_related("org").prefetch_related("transfers__from_org"):
        if timezone.localtime(member.registered_at).date() > until:
            continue
        later = [
            t for t in member.transfers.all() if timezone.localtime(t.transferred_at).date() > until
        ]
        where = min(later, key=lambda t: t.transferred_at).from_org if later else member.org
        paths.append(where.path)
    return paths


def straight_registered(org, until: date, paths: list[str] | None = None) -> int:
    """Registered active members in the org's subtree at the end of `until`, row by row."""
    paths = registered_paths(until) if paths is None else paths
    return sum(1 for path in paths if path.startswith(org.path))


def at(year, month, day, hour=10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def progress_world(roster):
    """The world's 2022 campaign (1 Sept – 30 Nov 2022) with targets, registrations and
    evaluations on known days; three more members at 真州镇卫生院工会.

    李华 (school) registered 5 Sept, evaluated 10 Sept; 赵明 (枣林湾) registered 6 Sept, evaluated
    Monday 31 Oct; 王芳 (school) registered 20 Oct, evaluated Wednesday 2 Nov; 钱一 (卫生院)
    registered 2 Nov, did not evaluate. Targets: 真州镇 4 (its unions 2 and 2), 枣林湾 1, 教育局 3.
    """
    from campaigns.services import set_manual_target
    from evaluations.services import Answers, submit_evaluation
    from members.counters import rebuild_registration_counts
    from members.models import Member
    from members.services import add_member

    w = roster
    c = w.campaign
    w.qian = add_member(org=w.town_union_b, name="钱一", id_number=fake_id_number(21))
    w.sun = add_member(org=w.town_union_b, name="孙二", id_number=fake_id_number(22))
    for member, moment in [
        (w.li, at(2022, 9, 5)),
        (w.zhao, at(2022, 9, 6)),
        (w.wang, at(2022, 10, 20)),
        (w.qian, at(2022, 11, 2, 23)),
    ]:
        register_member_account(member)
        Member.objects.filter(pk=member.pk).update(registered_at=moment)
        member.refresh_from_db()
    rebuild_registration_counts()
    for org, value in [
        (w.town, 4),
        (w.town_union_a, 2),
        (w.town_union_b, 2),
        (w.park, 1),
        (w.park_union, 1),
        (w.agency, 3),
    ]:
        set_manual_target(campaign=c, org=org, value=value)
    for member, moment in [
        (w.li, at(2022, 9, 10)),
        (w.zhao, at(2022, 10, 31)),
        (w.wang, at(2022, 11, 2, 23)),
    ]:
        submit_evaluation(
            member=member, campaign=c, answers=Answers(overall=4, ratings={}), now=moment
        )
    return w


# ---- weekly bulletins (reports/bulletins.py): cut-offs and a built bulletin


def monday(year, month, day) -> datetime:
    """A bulletin's cut-off: 00:00 Asia/Shanghai of that day (the previous day's 24:00)."""
    return datetime(year, month, day, tzinfo=SHANGHAI)


@pytest.fixture
def city_bulletin(progress_world):
    """The city's bulletin counted to Sunday 6 Nov 2022 24:00 (3 evaluations, targets 4+1+3)."""
    from reports.bulletins import build_bulletin

    w = progress_world
    return build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))


def xlsx_rows(content: bytes) -> list[tuple]:
    """The rows of an office sheet below its title, subtitle and header (openpyxl values)."""
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(content)).active
    return [row for row in sheet.iter_rows(min_row=4, values_only=True) if row[1] is not None]
