"""A small, hand-computable set of evaluations for the analysis tests (and the browser test).

World (root conftest): 仪征市总工会 → 真州镇 (中心小学工会, 卫生院工会), 枣林湾旅游度假区
(酒店工会), 教育局 (no union). In world.campaign (2022):

- 真州镇: six evaluations, overall 5 5 4 3 2 (中心小学) and 1 (卫生院);
  item 1 rated 5 4 4 2 1, item 2 rated 5 5 5 5 4, item 3 rated by four members only (5 5 4 4).
- 枣林湾: four evaluations, overall 5 5 5 4; item 1 rated 5 5 5 4 — under the threshold.
- 教育局: none.

Suggestions are written on every one of them (see SUGGESTIONS).
"""

from datetime import timedelta
from itertools import count

from conftest import fake_id_number
from evaluations.counters import rebuild_counts
from evaluations.models import Answer, Channel, Evaluation
from evaluations.selectors import questionnaire
from members.services import add_member

_numbers = count(100)

# (union attribute of the world, overall, {item position: rating}, suggestion)
TOWN = [
    ("town_union_a", 5, {0: 5, 1: 5, 2: 5}, "感谢工会送温暖，很暖心！希望多组织羽毛球比赛。"),
    ("town_union_a", 5, {0: 4, 1: 5, 2: 5}, "文体活动太少了，希望多组织篮球赛。"),
    ("town_union_a", 4, {0: 4, 1: 5, 2: 4}, "建议开展读书会，丰富文体活动。"),
    ("town_union_a", 3, {0: 2, 1: 5, 2: 4}, "加班费一直没有足额发放，食堂饭菜也贵。"),
    ("town_union_a", 2, {0: 1, 1: 4}, "工资好几个月没按时发了，工会也不出面。"),
    ("town_union_b", 1, {}, "拖欠绩效工资，社保按最低基数交，食堂太差。"),
]
PARK = [
    ("park_union", 5, {0: 5}, "文体活动丰富多彩，趣味运动会很开心。"),
    ("park_union", 5, {0: 5}, "职工书屋办得好，文体活动多。联系我13905141234"),
    ("park_union", 5, {0: 5}, "女职工的妈咪小屋很方便，点赞。"),
    ("park_union", 4, {0: 4}, "希望多开展技能培训和文体活动。"),
]
MEMBER_NAME = "欧阳建评"


def add_evaluations(world, campaign, rows, *, when=None):
    """Store the rows as evaluations of the campaign (members created for them); recount."""
    items = questionnaire(campaign).items
    when = when or campaign.starts_at + timedelta(days=1)
    stored = []
    for union_attr, overall, ratings, suggestion in rows:
        union = getattr(world, union_attr)
        member = add_member(
            org=union, name=MEMBER_NAME, id_number=fake_id_number(next(_numbers)), phone=""
        )
        evaluation = Evaluation.objects.create(
            campaign=campaign,
            member=member,
            org=union,
            overall=overall,
            suggestion=suggestion,
            submitted_at=when,
            channel=Channel.DEMO,
        )
        Answer.objects.bulk_create(
            Answer(evaluation=evaluation, question=items[position], rating=rating)
            for position, rating in ratings.items()
        )
        stored.append(evaluation)
    rebuild_counts(campaign)
    return stored
