"""The task-table import in the console: upload, preview, confirm, result, refused rows."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import TaskTableImport
from campaigns.tests.test_task_table import (
    HEADER,
    MESSY_XLSX,
    SEED_CSV,
    TOTAL_WARNING,
    database_state,
)
from orgs.selectors import children_of
from orgs.services import create_child_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_uploads(media_root: Path) -> list[Path]:
    folder = media_root / "task_imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def upload(client, *, parent, campaign, content: bytes, name: str, keep_valid=False):
    data = {
        "parent": parent.pk,
        "campaign": campaign.pk,
        "file": SimpleUploadedFile(name, content),
    }
    if keep_valid:
        data["keep_valid"] = "on"
    return client.post(reverse("imports:new"), data)


def upload_to_city(client, world, content: bytes, name: str):
    """An upload of a task table under the federation, for the 2022 campaign."""
    return upload(client, parent=world.city, campaign=world.campaign, content=content, name=name)


def upload_file(client, world, path: Path):
    return upload_to_city(client, world, path.read_bytes(), path.name)


def confirm(client, preview):
    return client.post(reverse("imports:confirm"), {"token": preview.context["token"]})


def test_the_form_preselects_the_parent_and_campaign_from_the_org_page(world, login):
    client = login(world.city_admin)
    page = client.get(
        reverse("imports:new") + f"?parent={world.town.pk}&campaign={world.campaign.pk}"
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "只导入有效行" in html and "任务分解表文件" in html
    assert page.context["form"].initial == {"parent": world.town.pk, "campaign": world.campaign.pk}
    offered = [label for _, label in page.context["form"].fields["parent"].choices]
    assert [label.strip("\u3000") for label in offered][:2] == ["仪征市总工会", "真州镇"]


def test_the_preview_lists_every_row_and_writes_nothing(world, login, media_root):
    client = login(world.city_admin)
    before = database_state()

    page = upload_file(client, world, SEED_CSV)

    assert page.status_code == 200
    assert database_state() == before
    html = page.content.decode()
    assert html.count("<tr class=") == 85
    assert TOTAL_WARNING in html
    assert "序号 1 → 5；参评目标 未设置 → 3,366" in html  # 真州镇, already in the tree
    assert "类型：镇工会（按名称推断）" in html  # 青山镇, new
    assert "确认导入 85 个单位" in html
    assert len(stored_uploads(media_root)) == 1
    assert stored_uploads(media_root)[0].name == f"{page.context['token']}.csv"


def test_confirming_applies_the_table_and_shows_the_result(world, login, media_root):
    client = login(world.city_admin)
    preview = upload_file(client, world, MESSY_XLSX)

    response = confirm(client, preview)

    record = TaskTableImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:detail", args=[record.pk])
    assert children_of(world.city).count() == 85
    assert record.imported_by == world.city_admin
    assert stored_uploads(media_root) == []
    result = client.get(response.url).content.decode()
    assert TOTAL_WARNING in result
    assert 'data-count="create">82<' in result and 'data-count="update">3<' in result
    org_page = client.get(
        reverse("orgs:detail", args=[world.city.pk]) + f"?campaign={world.campaign.pk}"
    )
    assert TOTAL_WARNING in org_page.content.decode()
    assert org_page.context["table"].total_target == 50_866
    assert org_page.context["table"].total_reported == 62_301


def test_a_token_is_good_for_one_confirmation_only(world, login):
    client = login(world.city_admin)
    preview = upload_file(client, world, SEED_CSV)
    confirm(client, preview)

    again = confirm(client, preview)

    assert again.status_code == 302 and again.url == reverse("imports:new")
    assert TaskTableImport.objects.count() == 1


def test_a_refused_row_shows_the_errors_and_no_commit_button(world, login, media_root):
    client = login(world.town_admin)
    content = f"{HEADER}\n1,新厂工会,100,80\n2,坏数工会,很多,10\n".encode()
    before = database_state()

    page = upload(client, parent=world.town, campaign=world.campaign, content=content, name="t.csv")

    html = page.content.decode()
    assert "有 1 行被拒绝，未写入任何数据" in html
    assert "年报工会会员人数“很多”不是数字" in html
    assert reverse("imports:confirm") not in html  # no commit button
    assert page.context["token"] == ""
    assert stored_uploads(media_root) == []
    assert database_state() == before


def test_keep_valid_imports_the_valid_rows_and_offers_the_refused_ones_as_xlsx(world, login):
    client = login(world.town_admin)
    content = f'{HEADER}\n1,新厂工会,100,80\n2,"=1+1",50,60\n'.encode("gbk")
    preview = upload(
        client,
        parent=world.town,
        campaign=world.campaign,
        content=content,
        name="真州镇任务分解表.csv",
        keep_valid=True,
    )
    assert "只导入 1 个有效行" in preview.content.decode()

    result = client.get(confirm(client, preview).url)

    html = result.content.decode()
    record = result.context["record"]
    assert "参评目标 60 人超过年报工会会员人数 50 人" in html
    assert children_of(world.town).filter(name="新厂工会").exists()
    assert not children_of(world.town).filter(name="=1+1").exists()
    download = client.get(reverse("imports:refused_xlsx", args=[record.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    row = [cell.value for cell in sheet[2]]
    assert row[:5] == [3, "2", "'=1+1", "50", "60"]  # behind a quote: never a formula
    assert sheet["C2"].data_type == "s"
    assert row[5] == "参评目标 60 人超过年报工会会员人数 50 人"


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(world, login):
    client = login(world.city_admin)
    before = database_state()

    page = upload_to_city(client, world, b"garbage that is no workbook", "任务分解表.xlsx")

    assert page.status_code == 200
    assert "无法作为 Excel 表格打开" in page.content.decode()
    assert database_state() == before


def test_an_empty_or_oversized_file_is_refused_on_the_form(world, login, settings):
    client = login(world.city_admin)
    empty = upload_to_city(client, world, b"", "a.csv")
    assert "文件“a.csv”是空的" in empty.content.decode()

    settings.PINGYI_MAX_UPLOAD_BYTES = 100
    big = upload_to_city(client, world, b"1" * 500, "b.csv")
    assert "文件大小为 500 字节，超过了上限（100 字节）" in big.content.decode()


def test_missing_columns_are_named_in_the_preview(world, login):
    client = login(world.city_admin)
    page = upload_to_city(client, world, "序号,名称,人数\n1,某局,10\n".encode(), "t.csv")

    assert "第 1 行的表头中找不到“年报工会会员人数(人)”列" in page.content.decode()
    assert page.context["token"] == ""


def test_town_admin_imports_under_their_own_town(world, login):
    client = login(world.town_admin)
    content = f"{HEADER}\n1,真州镇中心小学工会,300,200\n2,真州镇自来水厂工会,120,100\n".encode()
    preview = upload(
        client, parent=world.town, campaign=world.campaign, content=content, name="t.csv"
    )

    confirm(client, preview)

    town_page = client.get(
        reverse("orgs:detail", args=[world.town.pk]) + f"?campaign={world.campaign.pk}"
    )
    assert town_page.context["table"].total_target == 300
    seqs = dict(children_of(world.town).values_list("name", "seq"))
    assert seqs == {"真州镇中心小学工会": 1, "真州镇自来水厂工会": 2, "真州镇卫生院工会": 0}


def test_town_admin_cannot_import_under_another_town(world, login):
    client = login(world.town_admin)
    form = client.get(reverse("imports:new") + f"?parent={world.park.pk}")
    assert form.status_code == 404

    content = f"{HEADER}\n1,枣林湾酒店工会,10,10\n".encode()
    post = upload(client, parent=world.park, campaign=world.campaign, content=content, name="t.csv")
    assert post.status_code == 404
    assert TaskTableImport.objects.count() == 0


def test_viewer_cannot_import(world, login):
    client = login(world.viewer)
    assert client.get(reverse("imports:new")).status_code == 403
    assert client.get(reverse("imports:new") + f"?parent={world.town.pk}").status_code == 403
    content = f"{HEADER}\n1,新厂工会,10,10\n".encode()
    post = upload(client, parent=world.town, campaign=world.campaign, content=content, name="t.csv")
    assert post.status_code == 403


def test_another_units_admin_cannot_read_an_import_result(world, login):
    client = login(world.city_admin)
    preview = upload_file(client, world, SEED_CSV)
    record_url = confirm(client, preview).url
    record = TaskTableImport.objects.get()

    other = login(world.park_admin)
    assert other.get(record_url).status_code == 404
    assert other.get(reverse("imports:refused_xlsx", args=[record.pk])).status_code == 404
    assert "seed" not in other.get(reverse("imports:list")).content.decode()


def test_a_change_after_the_preview_is_caught_when_confirming(world, login):
    client = login(world.town_admin)
    content = f"{HEADER}\n1,新厂工会,100,80\n".encode()
    preview = upload(
        client, parent=world.town, campaign=world.campaign, content=content, name="t.csv"
    )
    # Meanwhile two units of that name appear: the import can no longer tell which to update.
    create_child_org(parent=world.town, name="新厂工会")
    create_child_org(parent=world.town, name="新厂 工会")

    page = confirm(client, preview)

    assert page.status_code == 200
    assert "预览之后数据发生了变化" in page.content.decode()
    assert "无法确定更新哪一个" in page.content.decode()
    assert TaskTableImport.objects.count() == 0
