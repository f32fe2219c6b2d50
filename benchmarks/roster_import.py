"""Time the roster import (会员名册导入) of 100,000 members, then a re-import with 1% changed.

Builds a union tree of a few hundred grassroots unions in its own database (a temporary SQLite
file, or the PostgreSQL database `pingyi_bench` with --postgres or DATABASE_URL, as org_tree.py
does), writes 100,000 fictitious members to an .xlsx and a .csv, and times reading, planning (the
preview) and the confirmed import (read again + plan again + write, in one transaction).

    .venv/bin/python benchmarks/roster_import.py               # SQLite in a temporary file
    .venv/bin/python benchmarks/roster_import.py --postgres    # PostgreSQL, database pingyi_bench
"""

import argparse
import csv
import io
import random
import time
from datetime import date, timedelta

from _scratch import scratch_database

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志红文斌"
HEADER = ["序号", "姓名", "身份证号码", "手机号码", "所在工会", "性别", "入会时间"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL")
    parser.add_argument("--rows", type=int, default=100_000, help="members in the file")
    parser.add_argument("--towns", type=int, default=20, help="towns under the city")
    parser.add_argument("--unions", type=int, default=15, help="grassroots unions per town")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


def build_tree(args) -> tuple:
    from orgs.models import OrgKind
    from orgs.services import create_child_org, create_root_org

    city = create_root_org(name="仪征市总工会", code="321081")
    unions = []
    for t in range(1, args.towns + 1):
        town = create_child_org(parent=city, name=f"第{t}镇", kind=OrgKind.TOWN, seq=t)
        for u in range(1, args.unions + 1):
            unions.append(
                create_child_org(parent=town, name=f"第{t}镇第{u}单位工会", kind=OrgKind.GRASSROOTS)
            )
    return city, unions


def roster_rows(args, unions, *, changed_share: float = 0.0) -> list[list[str]]:
    """Fictitious members: valid ID numbers (GB 11643 check digits) that belong to nobody."""
    from members.identity import compose_id_number

    rng = random.Random(args.seed)
    changing = random.Random(args.seed + 1)
    rows = []
    for i in range(args.rows):
        born = date(1965, 1, 1) + timedelta(days=i // 900)
        sequence = i % 900 + 1
        number = compose_id_number(region="321081", birth_date=born, sequence=sequence)
        phone = f"139{i:08d}"
        if changed_share and changing.random() < changed_share:
            phone = f"138{i:08d}"
        union = unions[i % len(unions)]
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        joined = f"{2000 + i % 22}-{1 + i % 12:02d}-01"
        # Half the rows name their union by code, half by name.
        rows.append(
            [
                str(i + 1),
                name,
                number,
                phone,
                union.code if i % 2 else union.name,
                "男" if sequence % 2 else "女",
                joined,
            ]
        )
    return rows


def xlsx_file(rows) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("会员名册")
    sheet.write_string(0, 0, "仪征市工会会员名册（基准测试，虚构数据）")
    for col, title in enumerate(HEADER):
        sheet.write_string(2, col, title)
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values):
            sheet.write_string(r, col, value)  # 身份证号码 as text, as the guide asks
    book.close()
    return buffer.getvalue()


def csv_file(rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def timed(label: str, func, figures: list):
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    figures.append((label, seconds))
    print(f"  {label:<58} {seconds:7.2f} s", flush=True)
    return result


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from members.models import AuditEvent, Member
    from members.roster_import import (
        file_sha256,
        plan_roster,
        read_roster,
        run_roster_import,
        start_roster_import,
    )

    print(
        f"pingyi roster-import benchmark on {connection.vendor} "
        f"({connection.settings_dict['NAME']}), {args.rows:,} rows"
    )
    call_command("migrate", verbosity=0, interactive=False)
    city, unions = build_tree(args)
    print(f"  tree: 1 city, {args.towns} towns, {len(unions)} grassroots unions")
    rows = roster_rows(args, unions)
    xlsx, csv_data = xlsx_file(rows), csv_file(rows)
    print(f"  files: .xlsx {len(xlsx) / 1e6:.1f} MB, .csv {len(csv_data) / 1e6:.1f} MB")
    figures: list = []

    def confirm(data: bytes, name: str):
        record = start_roster_import(
            parent=city, filename=name, sha256=file_sha256(data), keep_valid=False
        )
        return run_roster_import(record=record, data=data)

    timed("read .xlsx (calamine)", lambda: read_roster(xlsx, "名册.xlsx"), figures)
    table = timed("read .csv", lambda: read_roster(csv_data, "名册.csv"), figures)
    plan = timed(
        "preview: plan 100k new rows (checks, unions, ID lookups)",
        lambda: plan_roster(parent=city, table=table),
        figures,
    )
    assert plan.counts["create"] == args.rows, plan.summary()
    record = timed(
        "import .xlsx: read + plan + write 100k new", lambda: confirm(xlsx, "名册.xlsx"), figures
    )
    assert record.created_count == args.rows, record.error
    print(f"    members {Member.objects.count():,}, audit events {AuditEvent.objects.count():,}")

    changed = roster_rows(args, unions, changed_share=0.01)
    changed_xlsx = xlsx_file(changed)
    plan = timed(
        "re-import preview: plan, 1% of phones changed",
        lambda: plan_roster(parent=city, table=read_roster(changed_xlsx, "名册.xlsx")),
        figures,
    )
    record = timed(
        "re-import .xlsx: read + plan + write 1% changed",
        lambda: confirm(changed_xlsx, "名册2.xlsx"),
        figures,
    )
    print(
        f"    updated {record.updated_count:,}, unchanged {record.unchanged_count:,}, "
        f"changed fields {record.changed_fields}"
    )


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        started = time.perf_counter()
        run(args)
        print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
