"""Writes yizheng_2022_task_table_messy.xlsx: the seed's 附件1 as a real office would send it.

Run from the repository root: .venv/bin/python docs/samples/make_messy_task_table.py
The clean rows come from the CSV next to this script; the mess is added on purpose: a title
above the header, the header again on every printed page, names padded with spaces or broken
over two lines inside a cell, counts typed as text with full-width digits or a thousands
separator, a merged 合计 row and a note below it.
"""

import csv
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
HEADER = ["序号", "名  称", "年报工会会员人数（人）", "参评目标工会会员\n数（人）"]
PAGE_STARTS = {18, 40, 62, 84}  # the seed prints the header again above these rows
BROKEN = {
    "城市发展投资控股集团有限公司": "城市发展投资控股集团有限\n公司",
    "上汽大众汽车有限公司仪征分公司": "上汽大众汽车有限公司仪征\n分公司",
}
PADDED = {"经济开发区": "  经济开发区 ", "新集镇": "新集镇　", "市委办": " 市委办"}
FULL_WIDTH = str.maketrans("0123456789()", "０１２３４５６７８９（）")


def seed_rows() -> list[tuple[int, str, int, int]]:
    with open(HERE / "yizheng_2022_task_table.csv", encoding="utf-8-sig", newline="") as f:
        return [
            (int(seq), name.replace(" ", ""), int(reported), int(target))
            for seq, name, reported, target in csv.reader(f)
            if seq.isdigit()
        ]


def main() -> None:
    workbook = xlsxwriter.Workbook(HERE / "yizheng_2022_task_table_messy.xlsx")
    sheet = workbook.add_worksheet("任务分解表")
    title = workbook.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = workbook.add_format({"bold": True, "text_wrap": True, "border": 1, "align": "center"})
    cell = workbook.add_format({"border": 1, "text_wrap": True})
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 3, 16)
    sheet.write_string(0, 0, "附件1：")
    sheet.merge_range(1, 0, 1, 3, "“江苏工会” APP 注册会员网上评议\n任务分解表", title)
    row = 3
    sheet.write_row(row, 0, HEADER, head)
    for seq, name, reported, target in seed_rows():
        if seq in PAGE_STARTS:
            row += 2  # a blank line, then the header of the next printed page
            sheet.write_row(row, 0, HEADER, head)
        row += 1
        shown = BROKEN.get(name) or PADDED.get(name) or name.translate(FULL_WIDTH)
        sheet.write_string(row, 1, shown, cell)
        if name == "枣林湾旅游度假区":
            # Typed by hand with a Chinese input method: full-width digits, stored as text.
            sheet.write_string(row, 0, str(seq).translate(FULL_WIDTH), cell)
            sheet.write_string(row, 2, str(reported).translate(FULL_WIDTH), cell)
            sheet.write_string(row, 3, str(target).translate(FULL_WIDTH), cell)
            continue
        sheet.write_number(row, 0, seq, cell)
        if reported >= 1000 and seq % 5 == 1:
            sheet.write_string(row, 2, f"{reported:,}", cell)  # pasted from a report
        else:
            sheet.write_number(row, 2, float(reported), cell)
        sheet.write_number(row, 3, float(target), cell)
    row += 1
    sheet.merge_range(row, 0, row, 1, "合  计", head)
    sheet.write_blank(row, 2, None, cell)
    sheet.write_number(row, 3, 50867, cell)
    note = "注：参评目标按镇、园区年报工会会员人数的70%，其他单位按100%确定。"
    sheet.write_string(row + 2, 0, note)
    workbook.add_worksheet("Sheet2")
    workbook.close()


if __name__ == "__main__":
    main()
