"""The roster import in the console and on the command line: who may, preview, confirm, result."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import fake_id_number
from members.models import AuditAction, AuditEvent, ImportStatus, Member, RosterImport
from members.tests.test_roster_import import HEADER, csv_bytes, import_bytes, row

pytestmark = pytest.mark.django_db

# An 18-character ID number in clear: 17 digits and a digit or X, standing alone.
CLEAR_ID = re.compile(r"(?<![0-9])\d{17}[\dX](?![0-9])")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, *, parent, content: bytes, name="名册.csv", keep_valid=False):
    data = {"parent": parent.pk, "file": SimpleUploadedFile(name, content)}
    if keep_valid:
        data["keep_valid"] = "on"
    return client.post(reverse("roster_imports:new"), data)


def confirm(client, preview):
    return client.post(
        reverse("roster_imports:confirm"), {"token": preview.context["token"]}, follow=True
    )


def test_preview_then_confirm_imports_and_shows_the_result(world, login):
    client = login(world.town_admin)
    data = csv_bytes("真州镇工会会员名册", HEADER, row(), row("李四", fake_id_number(12)))

    preview = upload(client, parent=world.town, content=data)

    page = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-count="create">2<' in page
    assert "3210**********" in page and "139****5678" in page
    assert not CLEAR_ID.search(page) and "13912345678" not in page
    assert not Member.objects.exists()

    result = confirm(client, preview)

    page = result.content.decode()
    record = RosterImport.objects.get()
    assert record.status == ImportStatus.DONE and record.imported_by == world.town_admin
    assert result.redirect_chain[-1][0] == reverse("roster_imports:detail", args=[record.pk])
    assert 'data-count="create">2<' in page
    assert Member.objects.count() == 2
    assert not CLEAR_ID.search(page)


def test_the_result_page_lists_refused_rows_masked_and_the_changes(roster, login):
    client = login(roster.city_admin)
    data = csv_bytes(
        HEADER,
        row("李华", fake_id_number(1), "13900000001"),
        row("李四", fake_id_number(12)[:-1] + "0"),
    )
    preview = upload(client, parent=roster.city, content=data, keep_valid=True)
    assert "只导入 1 个有效行" in preview.content.decode()

    page = confirm(client, preview).content.decode()

    assert "覆盖更新的信息：手机号码 1 人" in page
    assert "身份证号码校验位不正确" in page
    assert not CLEAR_ID.search(page)


def test_a_refused_row_without_keep_valid_offers_no_confirmation(world, login):
    client = login(world.city_admin)
    data = csv_bytes(HEADER, row(phone="1"), row("李四", fake_id_number(12)))
    preview = upload(client, parent=world.city, content=data)

    page = preview.content.decode()
    assert preview.context["token"] == ""
    assert "有 1 行被拒绝，未写入任何数据" in page
    assert "手机号码应为 11 位数字" in page


def test_an_unreadable_file_is_refused_on_the_form(world, login):
    client = login(world.city_admin)
    response = upload(client, parent=world.city, content=b"%PDF-1.7", name="名册.pdf")
    assert "不是表格文件：会员名册请用 Excel" in response.content.decode()


def test_town_admin_cannot_import_into_the_park(world, login):
    client = login(world.town_admin)
    response = upload(client, parent=world.park, content=csv_bytes(HEADER, row()))
    assert response.status_code == 404
    assert client.get(reverse("roster_imports:new") + f"?parent={world.park.pk}").status_code == 404


def test_viewer_cannot_import(world, login):
    client = login(world.viewer)
    assert client.get(reverse("roster_imports:new")).status_code == 403
    response = upload(client, parent=world.city, content=csv_bytes(HEADER, row()))
    assert response.status_code == 403


def test_a_user_without_a_role_is_refused(world, login):
    assert login(world.nobody).get(reverse("roster_imports:list")).status_code == 403


def test_another_units_admin_cannot_see_an_import(world, login):
    record = import_bytes(world, csv_bytes(HEADER, row()), parent=world.town)
    client = login(world.park_admin)
    assert client.get(reverse("roster_imports:detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("roster_imports:refused_xlsx", args=[record.pk])).status_code == 404
    assert client.get(reverse("roster_imports:progress", args=[record.pk])).status_code == 404
    assert record.filename not in client.get(reverse("roster_imports:list")).content.decode()


def test_refused_rows_download_has_the_original_cells_and_is_audited(world, login):
    bad = fake_id_number(12)[:-1] + "0"
    record = import_bytes(
        world, csv_bytes(HEADER, row(), row("李四", bad)), keep_valid=True, parent=world.town
    )
    client = login(world.town_admin)

    response = client.get(reverse("roster_imports:refused_xlsx", args=[record.pk]))

    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    header = values[2]
    assert header == [
        "行号",
        "姓名",
        "身份证号码",
        "手机号码",
        "所在工会",
        "性别",
        "入会时间",
        "拒绝原因",
    ]
    assert values[3][:5] == ["3", "李四", bad, "13912345678", "真州镇中心小学工会"]
    assert "身份证号码校验位不正确" in values[3][7]
    event = AuditEvent.objects.get(action=AuditAction.EXPORTED)
    assert event.actor == world.town_admin and event.org == world.town


def test_a_viewer_may_read_the_result_but_not_download_personal_data(world, login):
    record = import_bytes(
        world, csv_bytes(HEADER, row(), row("李四", fake_id_number(12), phone="1")), keep_valid=True
    )
    client = login(world.viewer)
    assert client.get(reverse("roster_imports:detail", args=[record.pk])).status_code == 200
    assert client.get(reverse("roster_imports:refused_xlsx", args=[record.pk])).status_code == 403


def test_a_running_import_shows_its_progress_and_refreshes(world, login):
    record = RosterImport.objects.create(parent=world.city, filename="名册.csv", rows_total=1000)
    from django.core.cache import cache

    from members.roster_import import progress_key

    cache.set(progress_key(record.pk), (250, 1000))
    client = login(world.city_admin)

    page = client.get(reverse("roster_imports:detail", args=[record.pk]))
    progress = client.get(reverse("roster_imports:progress", args=[record.pk])).json()

    assert "已处理 250 / 1,000 行（25%）" in page.content.decode()
    assert page["Refresh"] == "2"
    assert progress == {"status": "running", "rows_done": 250, "rows_total": 1000}


def test_the_command_dry_run_writes_nothing(world, tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_bytes(csv_bytes(HEADER, row()))

    call_command("import_roster", str(path), "--parent", "321081", "--dry-run")

    out = capsys.readouterr().out
    assert "第 2 行（张三） 3210**********" in out and "新增" in out
    assert "试运行（--dry-run）：未写入任何数据。" in out
    assert not Member.objects.exists() and not RosterImport.objects.exists()
    assert fake_id_number(11) not in out


def test_the_command_imports_and_prints_progress(world, tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_bytes(csv_bytes(HEADER, row(), row("李四", fake_id_number(12))))

    call_command("import_roster", str(path), "--parent", "321081", "--user", "city_admin")

    out = capsys.readouterr().out
    assert "已处理 2 / 2 行（100%）" in out
    assert "已导入（记录编号" in out
    assert RosterImport.objects.get().imported_by == world.city_admin
    assert Member.objects.count() == 2


def test_the_command_refuses_without_keep_valid(world, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(csv_bytes(HEADER, row(), row("李四", fake_id_number(12), phone="1")))
    with pytest.raises(CommandError, match="加 --keep-valid 只导入有效行"):
        call_command("import_roster", str(path), "--parent", "321081")
    assert not Member.objects.exists()
