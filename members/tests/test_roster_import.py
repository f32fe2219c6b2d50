"""The roster import's rules: reading, checking every row, overwriting, all-or-nothing, audit."""

import io
import json
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.cache import cache

from conftest import fake_id_number
from members.models import AuditAction, AuditEvent, ImportStatus, Member, MemberStatus, RosterImport
from members.roster_import import (
    RosterImportRefused,
    RowOutcome,
    file_sha256,
    parse_joined_on,
    plan_roster,
    progress_key,
    read_roster,
    refused_rows,
    run_roster_import,
    start_roster_import,
)
from orgs.models import OrgKind
from orgs.services import create_child_org

pytestmark = pytest.mark.django_db

HEADER = "姓名,身份证号码,手机号码,所在工会,性别,入会时间"
SCHOOL = "真州镇中心小学工会"
HOSPITAL = "真州镇卫生院工会"


def csv_bytes(*lines: str) -> bytes:
    return "\n".join(lines).encode("utf-8")


def row(name="张三", id_number=None, phone="13912345678", union=SCHOOL, sex="", joined=""):
    id_number = fake_id_number(11) if id_number is None else id_number
    return f"{name},{id_number},{phone},{union},{sex},{joined}"


def plan_for(world, *lines: str, parent=None, user=None, name="名册.csv"):
    table = read_roster(csv_bytes(*lines), name)
    return plan_roster(parent=parent or world.city, table=table, filename=name, user=user)


def import_bytes(world, data: bytes, *, name="名册.csv", parent=None, keep_valid=False, user=None):
    record = start_roster_import(
        parent=parent or world.city,
        filename=name,
        sha256=file_sha256(data),
        keep_valid=keep_valid,
        user=user,
    )
    return run_roster_import(record=record, data=data)


def xlsx_bytes(rows: list[list[object]], *, text_id=True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_new_members_get_sex_and_birth_date_from_their_id_number(world):
    record = import_bytes(
        world, csv_bytes(HEADER, row(id_number=fake_id_number(11)), row("李四", fake_id_number(12)))
    )

    assert record.status == ImportStatus.DONE
    assert (record.created_count, record.refused_count) == (2, 0)
    zhang = Member.objects.get(name="张三")
    assert (zhang.sex, zhang.birth_date, zhang.org) == ("M", date(1990, 3, 7), world.town_union_a)
    assert Member.objects.get(name="李四").sex == "F"
    assert zhang.id_number == fake_id_number(11)
    assert zhang.phone == "13912345678"


def test_the_header_is_found_below_title_rows_in_a_workbook(world):
    data = xlsx_bytes(
        [
            ["仪征市真州镇工会会员名册"],
            ["填报单位：真州镇工会", None, "填报日期：2022年9月"],
            [],
            ["序号", "姓名", "身份证号码（必填）", "手机号码", "所在工会", "入会时间"],
            [1, "张三", fake_id_number(11), "13912345678", SCHOOL, date(2019, 3, 1)],
        ]
    )
    plan = plan_roster(parent=world.city, table=read_roster(data, "名册.xlsx"))

    assert plan.header_line == 4
    assert [r.outcome for r in plan.rows] == [RowOutcome.CREATE]
    assert plan.rows[0].joined_on == date(2019, 3, 1)


def test_lower_case_x_full_width_digits_and_spaces_in_the_id_are_accepted(world):
    number = next(fake_id_number(n) for n in range(1, 200) if fake_id_number(n).endswith("X"))
    typed = " ".join(number[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    plan = plan_for(world, HEADER, row(id_number=typed + " x"))

    assert plan.rows[0].outcome == RowOutcome.CREATE
    assert plan.rows[0].id_number == number


def test_a_15_digit_number_is_converted_to_18_digits(world):
    plan = plan_for(world, HEADER, row(id_number="321081900307011"))

    assert plan.rows[0].id_number == fake_id_number(11)
    assert plan.rows[0].outcome == RowOutcome.CREATE
    assert "1 个 15 位旧身份证号码已按国家标准转换为 18 位" in plan.notes


def test_names_are_trimmed_and_keep_the_middle_dot(world):
    plan = plan_for(world, HEADER, row(name="  买买提・艾力 "))
    assert plan.rows[0].name == "买买提·艾力"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"id_number": "32108119900307011"},
            "身份证号码应为 18 位（或 15 位旧号码），这里是 17 位",
        ),
        ({"id_number": "991081199003070118"}, "身份证号码的地区码不存在（前两位 99）"),
        ({"id_number": "321081199002300118"}, "身份证号码中的出生日期不存在"),
        ({"id_number": fake_id_number(11)[:-1] + "0"}, "身份证号码校验位不正确"),
        ({"id_number": "3.21081E+17"}, "请把该列设为文本格式"),
        ({"name": " "}, "姓名为空"),
        ({"phone": "1391234567"}, "手机号码应为 11 位数字"),
        ({"phone": ""}, "手机号码为空"),
        ({"union": "不存在的工会"}, "在“仪征市总工会”下找不到所在工会“不存在的工会”"),
        ({"union": "真州镇"}, "“真州镇”是镇工会，不是基层工会；会员只能导入到基层工会"),
        ({"union": ""}, "所在工会为空"),
        ({"sex": "女"}, "性别填的是“女”，但身份证号码显示为“男”"),
        ({"sex": "未知"}, "性别“未知”无法识别（可填 男、女）"),
        ({"joined": "2999-01-01"}, "入会时间 2999-01-01 晚于今天"),
        ({"joined": "1980-01-01"}, "入会时间 1980-01-01 早于身份证号码中的出生日期"),
        ({"joined": "去年"}, "入会时间“去年”无法识别"),
    ],
)
def test_each_bad_cell_is_refused_with_a_message_naming_it(world, cells, message):
    plan = plan_for(world, HEADER, row(**cells))

    refused = plan.rows[0]
    assert refused.outcome == RowOutcome.REFUSED
    assert message in refused.detail
    assert "第 2 行" in refused.label
    assert not plan.can_apply()


def test_an_id_number_stored_as_a_number_in_excel_is_refused_saying_the_column_must_be_text(world):
    data = xlsx_bytes(
        [
            ["姓名", "身份证号码", "手机号码", "所在工会"],
            ["张三", 3.21081199003071e17, 13912345678, SCHOOL],
        ]
    )
    plan = plan_roster(parent=world.city, table=read_roster(data, "名册.xlsx"))

    assert plan.rows[0].outcome == RowOutcome.REFUSED
    assert "请把该列设为文本格式" in plan.rows[0].detail


def test_refusal_messages_mask_the_id_number_and_phone(world):
    bad_check = fake_id_number(11)[:-1] + "0"
    plan = plan_for(world, HEADER, row(id_number=bad_check, phone="1391234567"))

    detail = plan.rows[0].detail
    assert bad_check not in detail and "1391234567" not in detail
    assert "3210**********0110"[:4] in detail


def test_an_id_number_twice_in_the_file_refuses_both_rows(world):
    plan = plan_for(world, HEADER, row(), row("张三丰"), row("李四", fake_id_number(12)))

    assert [r.outcome for r in plan.rows] == ["refused", "refused", "create"]
    assert "在表中重复出现（第 2 行、第 3 行）" in plan.rows[0].detail
    assert fake_id_number(11) not in plan.rows[0].detail


def test_a_union_outside_the_chosen_scope_is_refused(world):
    plan = plan_for(world, HEADER, row(union="枣林湾酒店工会"), parent=world.town)

    assert "所在工会“枣林湾酒店工会”不在本次导入范围“真州镇”内" in plan.rows[0].detail


def test_a_union_is_found_by_its_code_and_by_its_name_without_工会(world):
    plan = plan_for(
        world,
        HEADER,
        row(union=world.town_union_b.code),
        row("李四", fake_id_number(12), union="真州镇中心小学"),
    )
    assert [r.org_id for r in plan.rows] == [world.town_union_b.pk, world.town_union_a.pk]


def test_a_name_shared_by_two_unions_asks_for_the_code(world):
    twin = create_child_org(parent=world.park, name=SCHOOL, kind=OrgKind.GRASSROOTS)
    plan = plan_for(world, HEADER, row())

    assert "有 2 个工会名为“真州镇中心小学工会”，请改填工会代码" in plan.rows[0].detail
    assert twin.code in plan.rows[0].detail


def test_a_grassroots_admin_may_leave_out_the_union_column(world):
    plan = plan_for(
        world, "姓名,身份证号码,手机号码", row()[: -len(f",{SCHOOL},,")], parent=world.town_union_b
    )

    assert plan.rows[0].org_id == world.town_union_b.pk
    assert plan.rows[0].outcome == RowOutcome.CREATE


def test_missing_columns_are_named(world):
    plan = plan_for(world, "姓名,身份证号码", "张三," + fake_id_number(11))
    assert plan.problems == ["第 1 行的表头中找不到“手机号码”、“所在工会”列"]


@pytest.mark.parametrize(
    "value",
    ["2019-03-01", "2019/3/1", "2019年3月1日", "2019.03.01", "20190301", 43525.0, date(2019, 3, 1)],
)
def test_join_dates_are_read_as_admins_write_them(value):
    assert parse_joined_on(value, birth_date=date(1990, 3, 7), today=date(2022, 9, 1)) == date(
        2019, 3, 1
    )


def test_a_year_and_month_is_the_first_of_the_month():
    assert parse_joined_on("201903", birth_date=None, today=date(2022, 9, 1)) == date(2019, 3, 1)


def test_reimport_overwrites_the_same_id_and_reports_what_changed(roster):
    w = roster
    data = csv_bytes(
        HEADER,
        row("李华", fake_id_number(1), "13900000001", HOSPITAL, joined="2019-03-01"),
        row("王芳", fake_id_number(2), "13905145678", SCHOOL),
    )
    plan = plan_for(w, *data.decode().splitlines())
    first = plan.rows[0]
    assert first.outcome == RowOutcome.UPDATE
    assert first.detail == (
        "手机号码 139****1234 → 139****0001；所在工会 真州镇中心小学工会 → 真州镇卫生院工会；"
        "入会时间 （空） → 2019-03-01"
    )
    assert plan.rows[1].outcome == RowOutcome.UNCHANGED

    record = import_bytes(w, data, user=w.city_admin)

    assert (record.updated_count, record.unchanged_count) == (1, 1)
    assert record.changed_fields == {"phone": 1, "org": 1, "joined_on": 1}
    w.li.refresh_from_db()
    assert (w.li.phone, w.li.org, w.li.joined_on) == (
        "13900000001",
        w.town_union_b,
        date(2019, 3, 1),
    )
    event = AuditEvent.objects.get(action=AuditAction.ROSTER_UPDATED)
    assert event.member == w.li and event.actor == w.city_admin
    assert event.changes["phone"] == ["139****1234", "139****0001"]


def test_reimport_corrects_a_wrong_name(roster):
    record = import_bytes(roster, csv_bytes(HEADER, row("李桦", fake_id_number(1), "13905141234")))

    roster.li.refresh_from_db()
    assert roster.li.name == "李桦"
    assert record.changed_fields == {"name": 1}


def test_a_registered_members_name_change_is_flagged_and_their_phone_kept(roster):
    w = roster
    Member.objects.filter(pk=w.li.pk).update(user=w.nobody, registered_at="2022-09-01T00:00Z")
    plan = plan_for(w, HEADER, row("李桦", fake_id_number(1), "13900000001"))

    detail = plan.rows[0].detail
    assert "该会员已实名注册，姓名将被修改" in detail
    assert "手机号码以本人注册的为准，未覆盖" in detail
    assert "phone" not in plan.rows[0].changes


def test_a_member_who_left_is_active_again_when_imported(roster):
    Member.objects.filter(pk=roster.li.pk).update(status=MemberStatus.LEFT)
    import_bytes(roster, csv_bytes(HEADER, row("李华", fake_id_number(1), "13905141234")))

    roster.li.refresh_from_db()
    assert roster.li.status == MemberStatus.ACTIVE


def test_a_member_of_another_unit_is_refused_without_saying_where(roster):
    w = roster
    plan = plan_for(
        w, HEADER, row("赵明", fake_id_number(3), "13805140001"), parent=w.town, user=w.town_admin
    )

    detail = plan.rows[0].detail
    assert "已在其他单位工会的名册中（不在您的管理范围内），不能导入或移动" in detail
    assert "枣林湾" not in detail


def test_a_member_outside_the_chosen_scope_is_named_to_an_admin_who_manages_both(roster):
    w = roster
    plan = plan_for(
        w, HEADER, row("赵明", fake_id_number(3), "13805140001"), parent=w.town, user=w.city_admin
    )
    assert "的会员在“枣林湾酒店工会”的名册中，不在本次导入范围“真州镇”内" in plan.rows[0].detail


def test_one_refused_row_writes_nothing_unless_valid_rows_are_kept(world):
    data = csv_bytes(HEADER, row(), row("李四", fake_id_number(12), phone="123"))

    with pytest.raises(RosterImportRefused, match="有 1 行被拒绝，未写入任何数据"):
        import_bytes(world, data)
    assert not Member.objects.exists()
    failed = RosterImport.objects.get()
    assert failed.status == ImportStatus.FAILED and failed.refused_count == 1

    record = import_bytes(world, data, keep_valid=True)
    assert (record.created_count, record.refused_count) == (1, 1)
    assert list(Member.objects.values_list("name", flat=True)) == ["张三"]
    assert refused_rows(record)[0]["reasons"] == ["手机号码 ***：手机号码应为 11 位数字"]


def test_a_file_changed_after_the_preview_is_not_imported(world):
    data = csv_bytes(HEADER, row())
    record = start_roster_import(
        parent=world.city, filename="名册.csv", sha256=file_sha256(b"other"), keep_valid=False
    )
    with pytest.raises(Exception, match="文件与预览时的不一致"):
        run_roster_import(record=record, data=data)
    assert not Member.objects.exists()


def test_progress_is_reported_while_writing_and_kept_on_the_record(world):
    lines = [row(f"会员{chr(0x4E00 + n)}", fake_id_number(n)) for n in range(1, 30)]
    data = csv_bytes(HEADER, *lines)
    record = start_roster_import(
        parent=world.city, filename="名册.csv", sha256=file_sha256(data), keep_valid=False
    )
    seen = []

    def progress(done, total):
        seen.append((done, total))
        cache.set(progress_key(record.pk), (done, total))

    run_roster_import(record=record, data=data, progress=progress)

    assert seen[0] == (0, 29) and seen[-1] == (29, 29)
    record.refresh_from_db()
    assert (record.rows_done, record.rows_total) == (29, 29)
    assert cache.get(progress_key(record.pk)) is None


def test_new_members_are_audited_with_masked_id_numbers(world):
    import_bytes(world, csv_bytes(HEADER, row()), user=world.city_admin)

    event = AuditEvent.objects.get(action=AuditAction.ROSTER_CREATED)
    assert event.changes["id_number"] == ["", "3210**********" + fake_id_number(11)[-4:]]
    assert event.org == world.town_union_a


def test_no_id_number_or_phone_is_stored_in_clear(world):
    data = csv_bytes(HEADER, row(), row("李四", fake_id_number(12), phone="1391234567"))
    import_bytes(world, data, keep_valid=True)

    for model in (Member, RosterImport, AuditEvent):
        stored = json.dumps(list(model.objects.values()), default=str)
        assert fake_id_number(11) not in stored
        assert fake_id_number(12) not in stored
        assert "13912345678" not in stored


def test_join_date_blank_keeps_the_stored_one(roster):
    Member.objects.filter(pk=roster.li.pk).update(joined_on=date(2010, 1, 1))
    import_bytes(roster, csv_bytes(HEADER, row("李华", fake_id_number(1), "13905141234")))
    roster.li.refresh_from_db()
    assert roster.li.joined_on == date(2010, 1, 1)


def test_join_date_may_be_today_but_not_tomorrow(world):
    tomorrow = date.today() + timedelta(days=2)
    plan = plan_for(world, HEADER, row(joined=tomorrow.isoformat()))
    assert plan.rows[0].outcome == RowOutcome.REFUSED


@pytest.mark.parametrize("name", ["roster_sample.xlsx", "roster_sample.csv"])
def test_the_sample_files_import_cleanly(world, name):
    from django.conf import settings

    data = (settings.BASE_DIR / "docs" / "samples" / name).read_bytes()
    plan = plan_roster(parent=world.city, table=read_roster(data, name))

    assert plan.counts["create"] == 5, [r.detail for r in plan.refused]
    assert plan.header_line == (3 if name.endswith("xlsx") else 1)
