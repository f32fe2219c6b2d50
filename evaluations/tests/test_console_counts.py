"""The console's unit tables read the counters: 已评议 and 完成率 per unit."""

import re

from campaigns.services import set_manual_target
from evaluations.services import Answers, submit_evaluation


def _submit(member, campaign):
    submit_evaluation(member=member, campaign=campaign, answers=Answers(overall=5, ratings={}))


def _cell(html: str, attribute: str) -> str:
    return re.search(rf"data-{attribute}[^>]*>([^<]*)<", html).group(1).strip()


def test_the_town_page_counts_its_evaluations_and_completion(evaluators, login):
    w = evaluators
    set_manual_target(campaign=w.open_campaign, org=w.town_union_a, value=4)
    set_manual_target(campaign=w.open_campaign, org=w.town, value=8)
    _submit(w.li, w.open_campaign)
    _submit(w.zhao, w.open_campaign)  # 枣林湾: not the town's
    page = login(w.town_admin).get(f"/console/orgs/{w.town.pk}/?campaign={w.open_campaign.pk}")
    html = page.content.decode()
    assert _cell(html, 'stat="evaluated"') == "1"
    assert _cell(html, 'stat="completion"') == "12.5%"
    row = re.search(r"真州镇中心小学工会</a>.*?</tr>", html, re.S).group()
    assert ">1</td>" in row and "25.0%" in row
    assert _cell(html, 'total="evaluated"') == "1"
