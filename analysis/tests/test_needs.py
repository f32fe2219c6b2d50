"""会员需求: categories by editable rules, keywords, samples without identity, the run, the cache.

With the default rules the city's ten suggestions (conftest.py) fall into 文体活动 6 (three of
the town, three of the park), 福利普惠 3, 权益维护 3, 肯定与表扬 2, 女职工 1, 技能培训 1.
"""

import io

from django.urls import reverse
from openpyxl import load_workbook

from analysis.models import AnalysisRun, NeedRule, RunStatus
from analysis.services import effective_rules, ensure_needs_run, save_rules
from analysis.text import Rule, categorize, count_terms, encode_terms, segment

from .factories import MEMBER_NAME, add_evaluations


def _needs(client, org, campaign, **params):
    return client.get(reverse("analysis:needs", args=[org.pk]), {"campaign": campaign.pk, **params})


def _totals(client, w) -> dict:
    sheet = load_workbook(
        io.BytesIO(_needs(client, w.city, w.campaign, format="xlsx").getvalue())
    ).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[2]
    totals = next(r for r in rows if r[0] == "合计")
    return dict(zip(header, totals, strict=True))


def test_rules_are_seeded_with_the_ten_categories(db):
    names = [r.name for r in NeedRule.objects.filter(org__isnull=True).order_by("position")]
    assert names == [
        "文体活动",
        "福利普惠",
        "困难帮扶",
        "技能培训",
        "权益维护",
        "劳动安全",
        "女职工",
        "民主管理",
        "肯定与表扬",
    ]  # and 其他 for the rest


def test_a_suggestion_may_match_several_categories_or_none():
    rules = [Rule("文体活动", ("文体", "羽毛球")), Rule("肯定与表扬", ("感谢", "满意"))]
    assert categorize("感谢工会，希望多组织羽毛球。", rules) == [0, 1]
    assert categorize("食堂太贵。", rules) == []
    assert categorize("说实话不满意。", rules) == []  # a negated keyword does not count


def test_segmentation_keeps_domain_words_and_drops_stop_words():
    clauses = segment("职代会走过场，厂务公开栏好久没更新了。")
    words = [w for clause in clauses for w in clause]
    assert "职代会" in words and "厂务公开" in words
    assert "了" not in words and "好久" not in words
    counted, phrases = count_terms([encode_terms(clauses)] * 2)
    assert counted["职代会"] == 2 and phrases["职代会走过场"] == 2


def test_the_page_runs_the_analysis_and_shows_categories_per_unit(rated, login):
    w = rated
    client = login(w.city_admin)
    html = _needs(client, w.city, w.campaign).content.decode()
    run = AnalysisRun.objects.get(campaign=w.campaign)
    assert run.status == RunStatus.DONE and run.result["suggestions"] == 10
    assert 'data-stat="suggestions">10<' in html
    totals = _totals(client, w)
    assert totals["建议数"] == 10 and totals["文体活动"] == 6
    assert totals["福利普惠"] == "样本不足" and totals["权益维护"] == "样本不足"
    assert totals["其他"] == "样本不足"  # none, and none is fewer than five
    # The park (four suggestions) is withheld row-wide; the town shows only its total.
    sheet = load_workbook(
        io.BytesIO(_needs(client, w.city, w.campaign, format="xlsx").getvalue())
    ).active
    rows = {r[0]: list(r) for r in sheet.iter_rows(values_only=True) if r[0]}
    assert rows["枣林湾旅游度假区"][1:] == ["样本不足"] * (len(rows["枣林湾旅游度假区"]) - 1)
    assert rows["真州镇"][1] == 6 and rows["真州镇"][2] == "样本不足"  # 文体活动: 3
    assert "文体活动" in html and "<svg" in html
    assert reverse("analysis:word_cloud", args=[w.city.pk]) in html


def test_samples_never_show_who_wrote_them(rated, login):
    w = rated
    html = _needs(login(w.city_admin), w.city, w.campaign).content.decode()
    assert "建议摘录" in html
    assert "希望多开展技能培训和文体活动。" in html  # a 文体活动 sample
    assert MEMBER_NAME not in html
    assert "13905141234" not in html and "139********" in html
    # 福利普惠 has three suggestions: no sample of it.
    assert "福利普惠</h3>" not in html


def test_categories_follow_edited_rules(rated, login):
    w = rated
    client = login(w.city_admin)
    before = _totals(client, w)
    assert before["文体活动"] == 6 and before["权益维护"] == "样本不足"

    rules = [(r.name, r.keywords) for r in effective_rules(w.city)]
    edited = [
        (
            name,
            "羽毛球"
            if name == "文体活动"
            else keywords + " 文体"
            if name == "权益维护"
            else keywords,
        )
        for name, keywords in rules
    ]
    response = client.post(
        reverse("analysis:rules", args=[w.city.pk]) + f"?campaign={w.campaign.pk}",
        {"name": [n for n, _k in edited] + [""], "keywords": [k for _n, k in edited] + [""]},
    )
    assert response.status_code == 302
    assert NeedRule.objects.filter(org=w.city).count() == 9

    after = _totals(client, w)  # the page re-runs the analysis with the new rules
    assert after["文体活动"] == "样本不足"  # only 羽毛球 now: one suggestion
    assert after["权益维护"] == 8  # three of pay, five more of 文体
    assert AnalysisRun.objects.filter(campaign=w.campaign, status=RunStatus.DONE).count() == 1


def test_a_rule_without_keywords_is_refused_with_its_row(rated, login):
    w = rated
    response = login(w.city_admin).post(
        reverse("analysis:rules", args=[w.city.pk]) + f"?campaign={w.campaign.pk}",
        {"name": ["文体活动", "新类别"], "keywords": ["文体", ""]},
    )
    assert response.status_code == 200
    assert "第2行：类别“新类别”没有关键词" in response.content.decode()
    assert not NeedRule.objects.filter(org=w.city).exists()


def test_only_the_campaign_orgs_admin_edits_the_rules(rated, login):
    w = rated
    client = login(w.town_admin)
    url = reverse("analysis:rules", args=[w.town.pk]) + f"?campaign={w.campaign.pk}"
    page = client.get(url).content.decode()
    assert "只有仪征市总工会的管理员可以修改" in page and "<textarea" not in page
    assert client.post(url, {"name": ["x"], "keywords": ["y"]}).status_code == 403
    assert not NeedRule.objects.filter(org=w.city).exists()


def test_results_are_cached_until_new_evaluations_arrive(rated, login):
    w = rated
    first, active = ensure_needs_run(campaign=w.campaign)
    assert active is None and first.status == RunStatus.DONE
    again, _active = ensure_needs_run(campaign=w.campaign)
    assert again.pk == first.pk  # nothing new: the same run

    add_evaluations(w, w.campaign, [("park_union", 5, {}, "希望多组织文体活动。")])
    fresh, _active = ensure_needs_run(campaign=w.campaign)
    assert fresh.pk != first.pk and fresh.result["suggestions"] == 11
    assert not AnalysisRun.objects.filter(pk=first.pk).exists()  # its rows went with it


def test_the_page_shows_progress_while_the_run_is_going(rated, login):
    w = rated
    rules = effective_rules(w.city)
    save_rules(org=w.city, rows=[(r.name, r.keywords) for r in rules])
    from analysis.services import as_rules, source_key

    AnalysisRun.objects.create(
        campaign=w.campaign,
        status=RunStatus.RUNNING,
        progress=45,
        source_key=source_key(w.campaign, as_rules(rules)),
    )
    html = _needs(login(w.city_admin), w.city, w.campaign).content.decode()
    assert "正在分析… 45%" in html
    assert '<meta http-equiv="refresh"' in html


def test_needs_api_withholds_small_breakdowns(rated, login):
    w = rated
    client = login(w.city_admin)
    body = client.get(f"/api/v1/analysis/campaigns/{w.campaign.pk}/orgs/{w.city.pk}/needs").json()
    assert body["status"] == "done" and body["total"]["suggestions"] == 10
    counts = {c["category"]: c for c in body["total"]["categories"]}
    assert counts["文体活动"]["count"] == 6
    assert counts["福利普惠"] == {"category": "福利普惠", "count": None, "sample": "样本不足"}
    park = next(u for u in body["units"] if u["name"] == "枣林湾旅游度假区")
    assert park["sample"] == "样本不足" and park["suggestions"] is None
    assert MEMBER_NAME not in str(body)
    assert set(body["samples"]) == {"文体活动"}


def test_word_cloud_is_a_png_drawn_by_the_server(rated, login):
    w = rated
    client = login(w.city_admin)
    _needs(client, w.city, w.campaign)
    response = client.get(
        reverse("analysis:word_cloud", args=[w.city.pk]), {"campaign": w.campaign.pk}
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    # The park alone has four suggestions: no cloud.
    response = client.get(
        reverse("analysis:word_cloud", args=[w.park.pk]), {"campaign": w.campaign.pk}
    )
    assert response.status_code == 404


def test_the_operator_command_runs_the_analysis_here(rated):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("analyse_needs", campaign=rated.campaign.pk, stdout=out)
    assert "2022年会员网上评议：10 条建议" in out.getvalue()
    assert AnalysisRun.objects.get(campaign=rated.campaign).status == RunStatus.DONE
