"""The bulletin's files: the .docx notice, the .xlsx sheet and a .pdf that really shows Chinese."""

from io import BytesIO
from urllib.parse import unquote

import pytest
from django.urls import reverse

from reports.bulletin_formats import bulletin_docx, bulletin_pdf, bulletin_xlsx
from reports.tests.conftest import xlsx_rows

pytestmark = pytest.mark.django_db

HEADLINE = "截至11月6日，全市已有3名会员参与评议，完成目标任务的37.5%。"
TITLE = "关于2022年会员网上评议工作进展情况的通报（第1期）"


def east_asia_font(run) -> str | None:
    from docx.oxml.ns import qn

    fonts = run._element.rPr.rFonts
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def test_the_docx_is_an_official_notice_with_chinese_fonts(city_bulletin):
    from docx import Document

    doc = Document(BytesIO(bulletin_docx(city_bulletin.data)))

    title = doc.paragraphs[0]
    assert title.text == TITLE and title.alignment == 1  # centred
    assert title.runs[0].bold and east_asia_font(title.runs[0]) == "黑体"
    texts = [p.text for p in doc.paragraphs]
    assert texts[1] == "各镇（园区）工会、各机关事业单位工会："
    headline = next(p for p in doc.paragraphs if HEADLINE in p.text)
    assert east_asia_font(headline.runs[0]) == "仿宋"
    assert "仪征市总工会" in texts and "2022年11月7日" in texts
    signature = doc.paragraphs[texts.index("仪征市总工会")]
    assert signature.alignment == 2  # right
    section = doc.sections[0]
    mm = [round(v.mm) for v in (section.page_width, section.page_height)]
    assert mm == [210, 297]  # A4
    assert [round(v.mm) for v in (section.top_margin, section.left_margin)] == [37, 28]

    table = doc.tables[0]
    assert table.style.name == "Table Grid"  # bordered
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "序号",
        "单位",
        "年报会员数",
        "参评目标",
        "已注册",
        "已评议",
        "完成率",
        "本周新增",
        "排名",
        "排名变化",
    ]
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert body[0][:8] == ["1", "枣林湾旅游度假区", "381", "1", "1", "1", "100.0%", "1"]
    assert body[-1][1:7] == ["合计", "9320", "8", "4", "3", "37.5%"]
    cell_run = table.rows[1].cells[1].paragraphs[0].runs[0]
    assert east_asia_font(cell_run) == "仿宋"
    assert table.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # repeated on each page


def test_the_xlsx_rows_equal_the_bulletin(city_bulletin):
    from openpyxl import load_workbook

    data = city_bulletin.data
    content = bulletin_xlsx(data)
    rows = xlsx_rows(content)
    assert [r[:9] for r in rows[:-1]] == [
        (
            r["seq"],
            r["name"],
            r["reported"],
            r["target"],
            r["registered"],
            r["evaluated"],
            r["completion"] / 100,
            r["week_new"],
            r["rank"],
        )
        for r in data["rows"]
    ]
    assert rows[-1][1:7] == ("合计", 9320, 8, 4, 3, 0.375)
    sheet = load_workbook(BytesIO(content)).active
    assert sheet["A1"].value == TITLE
    assert sheet["G4"].number_format == "0.0%"  # 完成率 as a percentage cell
    assert "统计截至2022年11月6日24时" in sheet["A2"].value


def _ink(image, box) -> "object":
    """The glyph's pixels inside a character box, as a small grey image."""
    return image.crop(box).resize((24, 24))


def test_the_pdf_renders_the_chinese_headline(city_bulletin):
    import pypdfium2 as pdfium
    from PIL import ImageChops, ImageStat

    pdf = pdfium.PdfDocument(bulletin_pdf(city_bulletin.data))
    assert len(pdf) >= 2  # the notice, then the table
    page = pdf[0]
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    flat = "".join(text.split())
    assert TITLE in flat and HEADLINE in flat

    scale = 4
    image = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    chars = [text_page.get_text_range(i, 1) for i in range(text_page.count_chars())]
    start = "".join(chars).index("会员参与评议")

    def glyph(index):
        left, bottom, right, top = text_page.get_charbox(index)
        box = (
            int(left * scale),
            int((height - top) * scale),
            int(right * scale) + 1,
            int((height - bottom) * scale) + 1,
        )
        return _ink(image, box)

    hui, yuan = glyph(start), glyph(start + 1)  # 会, 员
    for ink in (hui, yuan):
        # Dark strokes on white paper: not a blank box.
        assert ink.getextrema()[0] < 80
        assert 20 < ImageStat.Stat(ink).mean[0] < 245
    # Two different characters, not two identical "tofu" boxes.
    difference = ImageStat.Stat(ImageChops.difference(hui, yuan)).mean[0]
    assert difference > 15


def test_the_pdf_table_breaks_over_pages_with_its_header_repeated(city_bulletin):
    import pypdfium2 as pdfium

    data = dict(city_bulletin.data)
    row = data["rows"][0]
    data["rows"] = [{**row, "seq": n, "name": f"第{n}单位工会"} for n in range(1, 81)]
    pdf = pdfium.PdfDocument(bulletin_pdf(data))
    table_pages = [
        "".join(pdf[i].get_textpage().get_text_range().split()) for i in range(1, len(pdf))
    ]
    assert len(table_pages) >= 2
    for page_text in table_pages:
        assert "序号单位年报会员数参评目标" in page_text
    everything = "".join(table_pages)
    assert "第1单位工会" in everything and "第80单位工会" in everything and "合计" in everything


def test_the_downloads_are_the_bulletins_files(city_bulletin, login, progress_world):
    client = login(progress_world.town_admin)
    for fmt, kind in [
        ("docx", "wordprocessingml"),
        ("xlsx", "spreadsheetml"),
        ("pdf", "application/pdf"),
    ]:
        answer = client.get(reverse("console:bulletin_download", args=[city_bulletin.pk, fmt]))
        assert answer.status_code == 200 and kind in answer["Content-Type"]
        disposition = unquote(answer["Content-Disposition"])
        assert disposition.endswith(f"仪征市总工会第1期评议进展通报.{fmt}")
        magic = b"".join(answer.streaming_content)[:4]
        assert magic == (b"%PDF" if fmt == "pdf" else b"PK\x03\x04")
    answer = client.get(reverse("console:bulletin_download", args=[city_bulletin.pk, "html"]))
    assert answer.status_code == 404
