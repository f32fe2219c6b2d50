"""考核评分 pages: the scores on the page and in the .xlsx, the scheme form, 发布 and who sees
what (drafts for the federation's admins only, the published result for the campaign's tree,
404 for anyone else)."""

import io
import re

import openpyxl
import pytest

from accounts.models import Role, RoleKind, User
from reports.models import AssessmentScheme

from .assessment_data import build, evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessed(world):
    return build(world)


def page_url(campaign, suffix="", **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/console/assessment/{campaign.pk}/{suffix}" + (f"?{qs}" if qs else "")


def get_page(client, campaign, **query) -> str:
    response = client.get(page_url(campaign, **query))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows_of(html: str) -> dict[str, dict]:
    """The table's body rows by unit name: column → text."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = {}
    for m in re.finditer(r'<tr data-org="\d+">(.*?)</tr>', body, re.S):
        cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', m.group(1)))
        rows[cells["name"]] = cells
    return rows


def ordered_names(html: str) -> list[str]:
    return re.findall(r'data-col="name">([^<]*)<', html)


def xlsx_of(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


def publish(client, campaign):
    return client.post(page_url(campaign, "publish/"))


def test_the_nav_links_to_the_assessment(assessed, login):
    html = login(assessed.city_admin).get("/console/").content.decode()

    assert 'href="/console/assessment/"' in html and "考核评分" in html


def test_the_city_admin_reads_the_draft_scores_computed_by_hand(assessed, login):
    w = assessed
    html = get_page(login(w.city_admin), w.campaign)

    assert "2022年会员网上评议考核评分（仪征市总工会）" in html
    assert "草稿" in html and "截至2022年11月30日" in html
    rows = rows_of(html)
    assert ordered_names(html) == ["枣林湾旅游度假区", "真州镇", "教育局", "建设行业"]
    town = rows["真州镇"]
    # Hand arithmetic: test_assessment.py's first test.
    assert (town["completion"], town["completion_points"]) == ("50.0%", "20.00")
    assert (town["participation"], town["participation_points"]) == ("35.0%", "10.00")
    assert (town["satisfaction"], town["satisfaction_points"]) == ("60.7", "12.14")
    assert (town["on_time"], town["handling"]) == ("50.0%", "50.0%")
    assert (town["total"], town["rank"], town["kind_rank"]) == ("52.14", "2", "1")
    assert (town["evaluated"], town["excluded"]) == ("7", "0")
    park = rows["枣林湾旅游度假区"]
    assert (park["completion"], park["completion_points"]) == ("130.0%", "40.00")
    assert (park["on_time"], park["on_time_points"]) == ("无差评", "10.00")
    assert park["total"] == "98.57"
    agency = rows["教育局"]
    assert (agency["satisfaction"], agency["satisfaction_points"]) == ("样本不足", "不计")
    assert (agency["handling"], agency["handling_points"]) == ("无人评价", "10.00")
    assert (agency["total"], agency["note"]) == ("38.21", "折算")
    sector = rows["建设行业"]
    assert (sector["completion"], sector["completion_points"]) == ("无目标", "0.00")
    assert (sector["participation"], sector["total"]) == ("无年报人数", "25.00")
    assert "市级机关直属基层工会" not in html
    footer = dict(re.findall(r'data-col="(\w+)">([^<]*)<', html.split("<tfoot>")[1]))
    assert footer["completion_points"] == "40" and footer["total"] == "100"
    assert "得分 = 分值 × min(指标值 ÷ 满分标准, 1)" in html
    assert "参评率 20 分（达到 70% 得满分）" in html


def test_the_kind_filter_keeps_the_ranks_of_the_whole_table(assessed, login):
    w = assessed
    html = get_page(login(w.city_admin), w.campaign, kind="agency")

    rows = rows_of(html)
    assert list(rows) == ["教育局"]
    assert (rows["教育局"]["rank"], rows["教育局"]["kind_rank"]) == ("3", "1")
    assert "仅机关/事业单位工会" in html


def test_the_xlsx_cells_equal_the_page(assessed, login):
    w = assessed
    client = login(w.city_admin)
    page = rows_of(get_page(client, w.campaign))
    response = client.get(page_url(w.campaign, "xlsx/"))
    assert response.status_code == 200
    sheet = xlsx_of(response)

    assert sheet[0][0] == "2022年会员网上评议考核评分（仪征市总工会）"
    assert sheet[1][0].startswith("截至2022年11月30日 · 草稿")
    header = list(sheet[2])
    assert header[:5] == ["序号", "单位", "类型", "已评议(人)", "已剔除(人)"]
    assert header[5:7] == ["完成率", "完成率得分"]
    assert header[-4:] == ["总分", "排名", "类内排名", "备注"]
    body = [r for r in sheet[3:] if isinstance(r[0], int)]
    assert [r[1] for r in body] == ["枣林湾旅游度假区", "真州镇", "教育局", "建设行业"]

    keys = ["completion", "participation", "satisfaction", "on_time", "handling"]
    for row in body:
        shown = page[row[1]]
        cells = dict(zip(header, row, strict=True))
        assert cells["已评议(人)"] == int(shown["evaluated"])
        assert cells["已剔除(人)"] == int(shown["excluded"])
        for key, label in zip(keys, header[5:15:2], strict=True):
            value, score = cells[label], cells[f"{label}得分"]
            text = shown[key]
            if text.endswith("%"):
                assert value == pytest.approx(float(text[:-1]) / 100), (row[1], key)
            elif re.fullmatch(r"[\d.]+", text):
                assert value == pytest.approx(float(text)), (row[1], key)
            else:
                assert value == text, (row[1], key)  # 样本不足, 无目标…
            points = shown[f"{key}_points"]
            assert score == (points if points == "不计" else pytest.approx(float(points)))
        assert cells["总分"] == pytest.approx(float(shown["total"]))
        assert (cells["排名"], cells["类内排名"]) == (int(shown["rank"]), int(shown["kind_rank"]))
        assert (cells["备注"] or "") == shown["note"]
    full = next(r for r in sheet if r[1] == "满分")
    assert full[6] == 40 and full[header.index("总分")] == 100
    assert any(r[0] and str(r[0]).startswith("得分 = 分值") for r in sheet)


def test_publishing_freezes_the_page_and_the_xlsx(assessed, login):
    w = assessed
    client = login(w.city_admin)
    draft = get_page(client, w.campaign)
    assert 'data-confirm="发布后' in draft

    response = publish(client, w.campaign)
    assert response.status_code == 302
    evaluate(w.agency_union, w.campaign, 5)  # later: 教育局 would now score 46.79

    html = get_page(client, w.campaign)
    assert "已发布" in html and "结果已冻结" in html
    assert f'action="/console/assessment/{w.campaign.pk}/publish/"' not in html
    assert rows_of(html)["教育局"]["total"] == "38.21"
    assert rows_of(html)["教育局"]["evaluated"] == "3"
    sheet = xlsx_of(client.get(page_url(w.campaign, "xlsx/")))
    agency = next(r for r in sheet if r[1] == "教育局")
    assert agency[3] == 3 and agency[15] == pytest.approx(38.21)
    assert "发布" in sheet[1][0] and "草稿" not in sheet[1][0]


def test_a_published_scheme_is_read_only(assessed, login):
    w = assessed
    client = login(w.city_admin)
    publish(client, w.campaign)

    form = client.get(page_url(w.campaign, "scheme/"))
    assert form.status_code == 200
    assert "评分方案已冻结" in form.content.decode() and "disabled" in form.content.decode()
    response = client.post(page_url(w.campaign, "scheme/"), scheme_data(completion_weight="50"))
    assert response.status_code == 302
    record = AssessmentScheme.objects.get(campaign=w.campaign)
    assert record.indicators.get(key="completion").weight == 40
    again = publish(client, w.campaign)
    assert again.status_code == 302
    assert "已经发布" in client.get(again["Location"]).content.decode()


def scheme_data(**changes) -> dict:
    data = {
        "kinds": ["town", "park", "sector", "direct", "agency", "enterprise"],
        "completion_weight": "40",
        "completion_cap": "100",
        "completion_missing": "zero",
        "participation_weight": "20",
        "participation_cap": "70",
        "participation_missing": "zero",
        "satisfaction_weight": "20",
        "satisfaction_cap": "100",
        "satisfaction_missing": "rescale",
        "on_time_weight": "10",
        "on_time_cap": "100",
        "on_time_missing": "full",
        "handling_weight": "10",
        "handling_cap": "100",
        "handling_missing": "full",
    }
    data.update(changes)
    return data


def test_the_saved_scheme_rescores_the_draft(assessed, login):
    w = assessed
    client = login(w.city_admin)
    form = client.get(page_url(w.campaign, "scheme/")).content.decode()
    assert 'name="participation_cap" value="70"' in form

    response = client.post(
        page_url(w.campaign, "scheme/"),
        scheme_data(satisfaction_missing="zero", kinds=["town", "agency"]),
    )

    assert response.status_code == 302
    rows = rows_of(get_page(client, w.campaign))
    assert list(rows) == ["真州镇", "教育局"]
    # 教育局: 12 + 8.57 + 0 (样本不足 now scores 0) + 0 + 10 = 30.57, nothing rescaled.
    assert (rows["教育局"]["satisfaction_points"], rows["教育局"]["total"]) == ("0.00", "30.57")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"completion_weight": "abc"}, "完成率的分值“abc”不是数字。"),
        ({"participation_weight": "-5"}, "参评率的分值“-5”超出范围：应在 0 至 1000 之间。"),
        ({"satisfaction_cap": "120"}, "满意度指数的满分标准“120”超出范围：应大于 0、不超过 100。"),
        ({"on_time_cap": "0"}, "按期整改率的满分标准“0”超出范围：应大于 0、不超过 100。"),
        ({"handling_weight": "1.234"}, "整改满意率的分值“1.234”最多保留两位小数。"),
        ({"completion_cap": ""}, "请填写完成率的满分标准。"),
        ({"handling_missing": "maybe"}, "整改满意率无数据时的处理“maybe”无效。"),
        ({"kinds": []}, "请至少选择一种参加考核的单位类型。"),
        ({"kinds": ["federation"]}, "单位类型“federation”不能参加考核。"),
        (
            {
                f"{k}_weight": "0"
                for k in ("completion", "participation", "satisfaction", "on_time", "handling")
            },
            "各项分值合计为 0：至少一项指标的分值应大于 0。",
        ),
    ],
)
def test_the_scheme_form_refuses_naming_the_field_and_the_value(assessed, login, changes, message):
    w = assessed
    response = login(w.city_admin).post(page_url(w.campaign, "scheme/"), scheme_data(**changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AssessmentScheme.objects.exists()


# ---------------------------------------------------------------------------------- who sees


def test_a_town_admin_gets_404_on_the_draft_the_scheme_and_publish(assessed, login):
    w = assessed
    client = login(w.town_admin)

    assert client.get(page_url(w.campaign)).status_code == 404
    assert client.get(page_url(w.campaign, "xlsx/")).status_code == 404
    assert client.get(page_url(w.campaign, "scheme/")).status_code == 404
    assert client.post(page_url(w.campaign, "scheme/"), scheme_data()).status_code == 404
    assert publish(client, w.campaign).status_code == 404
    assert not AssessmentScheme.objects.exists()
    listing = client.get("/console/assessment/").content.decode()
    assert w.campaign.name not in listing


def test_once_published_the_town_reads_the_citys_result_but_cannot_change_it(assessed, login):
    w = assessed
    publish(login(w.city_admin), w.campaign)
    client = login(w.town_admin)

    html = get_page(client, w.campaign)
    assert rows_of(html)["真州镇"]["total"] == "52.14"
    assert "设置评分方案" not in html and "查看评分方案" not in html
    assert client.get(page_url(w.campaign, "xlsx/")).status_code == 200
    assert client.get(page_url(w.campaign, "scheme/")).status_code == 404
    assert client.post(page_url(w.campaign, "scheme/"), scheme_data()).status_code == 404
    assert w.campaign.name in client.get("/console/assessment/").content.decode()
    assert client.get(f"/console/assessment/?campaign={w.campaign.pk}").status_code == 302


def test_a_viewer_of_the_city_reads_only_the_published_result(assessed, login):
    w = assessed
    client = login(w.viewer)
    assert client.get(page_url(w.campaign)).status_code == 404

    publish(login(w.city_admin), w.campaign)

    client = login(w.viewer)
    assert client.get(page_url(w.campaign)).status_code == 200
    assert publish(client, w.campaign).status_code == 404


def test_another_federations_admin_gets_404_draft_or_published(assessed, other_campaign, login):
    w = assessed
    stranger = User.objects.create_user(username="yangzhou", password="pingyi-test-pw")
    Role.objects.create(user=stranger, org=other_campaign.org, kind=RoleKind.FEDERATION_ADMIN)
    client = login(stranger)

    for published in (False, True):
        if published:
            publish(login(w.city_admin), w.campaign)
            client = login(stranger)
        assert client.get(page_url(w.campaign)).status_code == 404
        assert client.get(page_url(w.campaign, "xlsx/")).status_code == 404
        assert client.get(page_url(w.campaign, "scheme/")).status_code == 404
        assert client.get(f"/console/assessment/?campaign={w.campaign.pk}").status_code == 404
    assert publish(client, w.campaign).status_code == 404
    # Their own campaign is theirs to score.
    assert client.get(page_url(other_campaign)).status_code == 200
    assert "仪征" not in client.get("/console/assessment/").content.decode()
