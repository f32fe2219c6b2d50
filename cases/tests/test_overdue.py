"""Overdue cases are found by the scheduled check, escalate to the parent org and show there."""

from django.core.management import call_command

from cases.models import Case, CaseEvent, EventKind, Notification, NotificationKind, Outcome
from cases.services import check_overdue_cases, reply_case, verify_case
from cases.tasks import check_overdue_cases as overdue_task

from .conftest import at


def _run_command(now: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("check_overdue_cases", now=now, stdout=out)
    return out.getvalue()


def test_nothing_is_overdue_on_the_last_day(case):
    report = check_overdue_cases(now=at("2022-10-08", 23))

    assert (report.verify, report.rectify) == (0, 0)
    assert Case.objects.get().escalated_to is None


def test_an_unverified_case_escalates_to_the_town_the_day_after_its_deadline(reviewers, case):
    w = reviewers

    output = _run_command("2022-10-09T09:00")

    assert "核实逾期 1 件" in output
    case.refresh_from_db()
    assert case.escalated_to == w.town
    assert case.verify_overdue_at is not None
    notice = Notification.objects.get()
    assert notice.org == w.town
    assert notice.kind == NotificationKind.VERIFY_OVERDUE
    assert "真州镇中心小学工会" in notice.message and "2022年10月8日" in notice.message
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == [EventKind.OPENED, EventKind.OVERDUE, EventKind.ESCALATED]


def test_running_the_check_twice_escalates_once(reviewers, case):
    _run_command("2022-10-09T09:00")
    second = _run_command("2022-10-09T10:00")

    assert "核实逾期 0 件" in second
    assert Notification.objects.count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ESCALATED).count() == 1


def test_the_celery_task_runs_the_same_check(case):
    result = overdue_task.apply().get()

    # Today is long after 2022: both deadlines have passed.
    assert result == {"verify": 1, "rectify": 1, "escalated": 1}
    assert overdue_task.apply().get() == {"verify": 0, "rectify": 0, "escalated": 0}


def test_a_verified_case_without_a_reply_is_overdue_after_fifteen_working_days(reviewers, case):
    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))

    assert check_overdue_cases(now=at("2022-10-26", 20)).rectify == 0
    report = check_overdue_cases(now=at("2022-10-27", 8))

    assert report.rectify == 1 and report.escalated == 1
    notice = Notification.objects.get()
    assert notice.kind == NotificationKind.RECTIFY_OVERDUE
    assert notice.org == w.town


def test_a_case_replied_in_time_is_never_overdue(reviewers, case):
    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    reply_case(
        case=case,
        by=w.union_admin,
        outcome=Outcome.EXPLAINED,
        measures="",
        reply="说明",
        now=at("2022-10-26"),
    )

    report = check_overdue_cases(now=at("2022-11-30"))

    assert (report.verify, report.rectify) == (0, 0)
    assert not Notification.objects.exists()


def test_the_town_admin_sees_the_notice_in_the_console_and_the_union_admin_does_not(
    reviewers, case, login, client
):
    w = reviewers
    check_overdue_cases(now=at("2022-10-09"))

    town = login(w.town_admin)
    home = town.get("/console/cases/").content.decode()
    assert 'title="未读处置提醒">1</span>' in home
    notices = town.get("/console/cases/notices/").content.decode()
    assert "核实逾期" in notices and "真州镇中心小学工会" in notices
    assert "李华" not in notices

    town.post("/console/cases/notices/read/")
    assert 'title="未读处置提醒"' not in town.get("/console/cases/").content.decode()

    client.logout()
    union = login(w.union_admin)
    assert "核实逾期" not in union.get("/console/cases/notices/").content.decode()


def test_the_overdue_filter_of_the_queue(reviewers, case, login):
    from .conftest import negative_review

    w = reviewers
    answered = negative_review(w.wang, w.campaign, when=at("2022-11-28"))
    verify_case(case=answered, by=w.union_admin, finding="属实", now=at("2022-11-28", 15))
    reply_case(
        case=answered,
        by=w.union_admin,
        outcome=Outcome.EXPLAINED,
        measures="",
        reply="说明",
        now=at("2022-11-29"),
    )
    admin = login(w.town_admin)

    everything = admin.get(f"/console/cases/?campaign={w.campaign.pk}").content.decode()
    overdue = admin.get(f"/console/cases/?campaign={w.campaign.pk}&overdue=1").content.decode()

    assert case.number in everything and answered.number in everything
    assert case.number in overdue
    assert answered.number not in overdue
