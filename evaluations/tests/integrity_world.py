"""Members and evaluations for the integrity tests: ordinary ones spread over the campaign, and
fabricated ones planted with the traces a padding union leaves."""

from datetime import date, datetime, timedelta

from campaigns.models import Campaign
from conftest import SHANGHAI, fake_id_number, register_member_account
from evaluations.selectors import questionnaire
from evaluations.services import Answers, submit_evaluation
from members.models import Member
from members.services import add_member

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
LONG_AGO = datetime(2022, 8, 1, 9, 0, tzinfo=SHANGHAI)
BORN = date(1980, 1, 1)

_made = {"n": 0}


def members(org, n: int, *, registered_at: datetime | None = LONG_AGO) -> list[Member]:
    """n registered members on the union's roster (registered at `registered_at`)."""
    out = []
    for _i in range(n):
        k = _made["n"] = _made["n"] + 1
        member = add_member(
            org=org,
            name=SURNAMES[k % len(SURNAMES)] + GIVEN[(k // len(SURNAMES)) % len(GIVEN)] + "华",
            id_number=fake_id_number(1 + k % 900, born=str(BORN + timedelta(days=k // 900))),
            phone=f"139{k:08d}",
        )
        register_member_account(member)
        if registered_at is not None:
            Member.objects.filter(pk=member.pk).update(registered_at=registered_at)
            member.refresh_from_db()
        out.append(member)
    return out


def rate(
    member,
    campaign: Campaign,
    at: datetime,
    *,
    overall: int = 4,
    items: list[int] | None = None,
    suggestion: str = "",
    address: str | None = None,
    device: str = "",
    fill_seconds: float | None = 90,
):
    """Submit as the member would, at `at`, from `address` and `device`, having opened the form
    `fill_seconds` before."""
    questions = questionnaire(campaign).items
    ratings = {q.pk: r for q, r in zip(questions, items or [], strict=False)}
    done = submit_evaluation(
        member=member,
        campaign=campaign,
        answers=Answers(overall=overall, ratings=ratings, suggestion=suggestion),
        address=address,
        user_agent="Mozilla/5.0 (Linux; Android 12)",
        device_id=device,
        form_opened_at=at - timedelta(seconds=fill_seconds) if fill_seconds is not None else None,
        now=at,
    )
    assert done.created
    return done.evaluation


def ordinary(org, campaign: Campaign, n: int, *, start: datetime | None = None, tag: str = ""):
    """n members who rate one by one over the weeks, each from their own phone, taking their
    time, answers varied."""
    start = start or datetime(2022, 9, 5, 12, 0, tzinfo=SHANGHAI)
    out = []
    for i, member in enumerate(members(org, n)):
        at = start + timedelta(hours=7 * i + (i % 5))
        out.append(
            rate(
                member,
                campaign,
                at,
                overall=(4, 5, 3, 5, 4)[i % 5],
                items=[(4, 5, 3, 4, 5, 4, 4, 5, 3)[(i + j) % 9] for j in range(9)],
                suggestion=f"希望{tag}多组织活动，第{i}条建议各不相同" if i % 3 == 0 else "",
                address=f"112.2.{i // 200}.{i % 200 + 1}",
                device=f"phone-{tag}-{member.pk}",
                fill_seconds=60 + 7 * (i % 11),
            )
        )
    return out


def fabricated(
    org,
    campaign: Campaign,
    n: int,
    *,
    start: datetime,
    address: str = "58.221.36.18",
    device: str = "office-pc",
    every_seconds: int = 40,
    suggestion: str = "",
    quick: bool = True,
):
    """n accounts registered and rated one after another from one office computer: five stars
    everywhere, in seconds."""
    out = []
    for i in range(n):
        at = start + timedelta(seconds=every_seconds * i)
        [member] = members(org, 1, registered_at=at - timedelta(seconds=25) if quick else LONG_AGO)
        out.append(
            rate(
                member,
                campaign,
                at,
                overall=5,
                items=[5] * 9,
                suggestion=suggestion,
                address=address,
                device=device,
                fill_seconds=8,
            )
        )
    return out
