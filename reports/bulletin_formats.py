"""The bulletin as .docx (an official notice), .xlsx (the office's sheet) and .pdf.

Each reads only the frozen `Bulletin.data` (reports.bulletins.compose), so every format of one
bulletin shows the same figures, rounded the same way.
"""

import io
import logging
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from pingyi.fonts import cjk_face
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .bulletins import pct_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class TableColumn:
    title: str
    key: str
    kind: str  # "text", "int" or "percent" (a figure shown as 87.3%)
    width_mm: float  # in the .docx and .pdf table
    xlsx_width: float


def table_columns() -> list[TableColumn]:
    """The ranking table's columns, in every format."""
    return [
        TableColumn(_("序号"), "seq", "int", 9, 6),
        TableColumn(_("单位"), "name", "text", 38, 30),
        TableColumn(_("年报会员数"), "reported", "int", 14, 11),
        TableColumn(_("参评目标"), "target", "int", 13, 10),
        TableColumn(_("已注册"), "registered", "int", 13, 10),
        TableColumn(_("已评议"), "evaluated", "int", 13, 10),
        TableColumn(_("完成率"), "completion", "percent", 14, 10),
        TableColumn(_("本周新增"), "week_new", "int", 12, 10),
        TableColumn(_("排名"), "rank", "int", 9, 6),
        TableColumn(_("排名变化"), "rank_change_text", "text", 13, 10),
    ]


def total_row(data: dict) -> dict:
    """The 合计 row: the org's whole-subtree figures (no rank)."""
    return {**data["total"], "seq": None, "name": _("合计"), "rank": None, "rank_change_text": ""}


def cell_text(row: dict, column: TableColumn) -> str:
    value = row.get(column.key)
    if column.key == "rank" and row.get("seq") is None:
        return ""  # the 合计 row has no rank
    if column.kind == "percent":
        return pct_text(value)
    if value is None:
        return "" if column.key in ("seq", "rank_change_text") else "—"
    return str(value)


def file_stem(data: dict) -> str:
    return _("%(org)s第%(number)s期评议进展通报") % {
        "org": data["org"]["name"],
        "number": data["number"],
    }


def issued_line(data: dict) -> str:
    return _("统计截至%(until)s24时") % {"until": data["until_text"]}


# .xlsx


def bulletin_xlsx(data: dict) -> bytes:
    columns = table_columns()
    kinds = {"int": "int", "percent": "percent", "text": "text"}
    sheet_columns = [Column(c.title, c.xlsx_width, kinds[c.kind]) for c in columns]

    def values(row: dict) -> list:
        out = []
        for c in columns:
            value = row.get(c.key)
            if c.kind == "percent":
                # A percentage cell holds the fraction; the shown figure is frozen in data.
                value = None if value is None else round(value / 100, 4)
            out.append(value)
        return out

    notes = [p["text"] for p in data["paragraphs"] if p["style"] == "text"][1:3]
    return office_xlsx(
        OfficeSheet(
            title=data["title"],
            subtitle=_("%(issuer)s　%(until)s　%(issued)s")
            % {"issuer": data["issuer"], "until": issued_line(data), "issued": data["issued_text"]},
            columns=sheet_columns,
            rows=[values(r) for r in data["rows"]],
            totals=values(total_row(data)),
            notes=notes,
            sheet_name=_("第%(number)s期") % {"number": data["number"]},
        )
    )


# .docx

# GB/T 9704 (党政机关公文格式): A4, margins 37/35/28/26 mm, title in 小标宋 二号, body 仿宋 三号.
TITLE_FONT = "方正小标宋简体"
TITLE_FALLBACK = "黑体"
HEADING_FONT = "黑体"
BODY_FONT = "仿宋"
TABLE_FONT = "仿宋"


def _set_fonts(run, name: str, size_pt: float, *, bold: bool = False) -> None:
    """Set a run's font for Latin and East Asian text alike: Word picks the eastAsia font for
    Chinese, and python-docx's font.name sets only the Latin ones."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc, text: str, font: str, size: float, *, bold=False, align=None, indent=True):
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing = Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        paragraph.alignment = align
    _set_fonts(paragraph.add_run(text), font, size, bold=bold)
    return paragraph


def _repeat_as_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def bulletin_docx(data: dict) -> bytes:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    title = _paragraph(
        doc, data["title"], TITLE_FALLBACK, 22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    title.paragraph_format.first_line_indent = None
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Pt(16)
    for part in data["paragraphs"]:
        if part["style"] == "salutation":
            _paragraph(doc, part["text"], BODY_FONT, 16, indent=False)
        elif part["style"] == "heading":
            _paragraph(doc, part["text"], HEADING_FONT, 16)
        else:
            _paragraph(doc, part["text"], BODY_FONT, 16)
    doc.add_paragraph()
    for line in (data["issuer"], data["issued_text"]):
        signature = _paragraph(doc, line, BODY_FONT, 16, indent=False)
        signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        signature.paragraph_format.right_indent = Pt(32)

    # The table is the notice's attachment (附表), on a landscape page of its own.
    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = 1  # WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(297), Mm(210)
    annex.top_margin, annex.bottom_margin = Mm(25), Mm(25)
    annex.left_margin, annex.right_margin = Mm(25), Mm(25)
    _paragraph(doc, _("附表"), HEADING_FONT, 16, indent=False)
    caption = _paragraph(
        doc, data["table_title"], HEADING_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False
    )
    caption.paragraph_format.space_after = Pt(8)

    columns = table_columns()
    rows = [*data["rows"], total_row(data)]
    table = doc.add_table(rows=1 + len(rows), cols=len(columns))
    table.style = "Table Grid"  # every cell bordered, as the offices' tables are
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    scale = 247 / sum(c.width_mm for c in columns)  # the landscape page's text width
    widths = [Mm(c.width_mm * scale) for c in columns]
    for table_row in table.rows:
        for cell, width in zip(table_row.cells, widths, strict=True):
            cell.width = width
    table_rows = list(table.rows)  # python-docx rebuilds these lists on every access
    _repeat_as_header(table_rows[0])
    for cell, column in zip(table_rows[0].cells, columns, strict=True):
        _cell(cell, column.title, HEADING_FONT, center=True)
    for row_index, (table_row, row) in enumerate(zip(table_rows[1:], rows, strict=True), 1):
        font = HEADING_FONT if row_index == len(rows) else TABLE_FONT
        for cell, column in zip(table_row.cells, columns, strict=True):
            center = column.kind != "text" or column.key == "rank_change_text"
            _cell(cell, cell_text(row, column), font, center=center)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _cell(cell, text: str, font: str, *, bold: bool = False, center: bool = False) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_fonts(paragraph.add_run(text), font, 10.5, bold=bold)


# .pdf


def bulletin_pdf(data: dict) -> bytes:
    # fpdf2 subsets the fonts with fontTools, which logs every table at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    serif, sans_bold = cjk_face("serif"), cjk_face("sans", "bold")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("serif", "", fname=serif.path, collection_font_number=serif.index)
    pdf.add_font("sans", "B", fname=sans_bold.path, collection_font_number=sans_bold.index)
    pdf.set_title(data["title"])
    pdf.set_author(data["issuer"])
    pdf.set_margins(left=28, top=37, right=26)
    pdf.set_auto_page_break(auto=True, margin=35)
    pdf.add_page()

    pdf.set_font("sans", "B", 20)
    for line in _cjk_lines(pdf, data["title"], pdf.epw):
        pdf.cell(0, 11, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for part in data["paragraphs"]:
        if part["style"] == "salutation":
            pdf.set_font("serif", "", 14)
            text = part["text"]
        elif part["style"] == "heading":
            pdf.set_font("sans", "B", 14)
            text = INDENT + part["text"]
        else:
            pdf.set_font("serif", "", 14)
            text = INDENT + part["text"]
        _justified(pdf, text, line_height=9)
    pdf.ln(9)
    pdf.set_font("serif", "", 14)
    for line in (data["issuer"], data["issued_text"]):
        pdf.cell(0, 9, line + INDENT, align="R", new_x="LMARGIN", new_y="NEXT")

    # The ranking table: a landscape attachment whose header row repeats on every page.
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_top_margin(20)
    pdf.add_page(orientation="L")
    pdf.set_font("sans", "B", 14)
    pdf.cell(0, 9, _("附表"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, data["table_title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    columns = table_columns()
    pdf.set_font("serif", "", 10)
    heading = FontFace(family="sans", emphasis="B", size_pt=10, fill_color=(242, 242, 242))
    rows = [*data["rows"], total_row(data)]
    with pdf.table(
        col_widths=[c.width_mm for c in columns],
        width=pdf.epw,
        text_align=["CENTER" if c.kind != "text" else "LEFT" for c in columns],
        headings_style=heading,
        repeat_headings=1,
        line_height=7,
        wrapmode=WrapMode.CHAR,
    ) as table:
        header = table.row()
        for column in columns:
            header.cell(column.title)
        for index, row in enumerate(rows):
            style = FontFace(family="sans", emphasis="B") if index == len(rows) - 1 else None
            cells = table.row(style=style)
            for column in columns:
                cells.cell(cell_text(row, column))
    return bytes(pdf.output())


INDENT = "\u3000\u3000"  # two ideographic spaces: a Chinese paragraph's first-line indent
# Chinese line-breaking rules (禁则): no line starts with closing punctuation, none ends with an
# opening one; digits and Latin words stay whole (2022, 37.5%).
NO_LINE_START = set("，。、；：？！）》」』”’％%…—,.;:!?)]")
NO_LINE_END = set("（《「『“‘([")
_TOKENS = re.compile(r"[0-9A-Za-z.]+%?|.", re.S)


def _cjk_lines(pdf, text: str, width: float) -> list[str]:
    """Break text into lines no wider than `width` (a closing mark may hang past it, as
    Chinese typesetting lets it)."""
    lines: list[str] = []
    line, line_width = "", 0.0
    for token in _TOKENS.findall(text):
        token_width = pdf.get_string_width(token)
        if not line and lines and token[0] in NO_LINE_START:
            lines[-1] += token
            continue
        if not line or line_width + token_width <= width:
            line, line_width = line + token, line_width + token_width
            continue
        if token[0] in NO_LINE_START:
            lines.append(line + token)
            line, line_width = "", 0.0
            continue
        carry = ""
        while len(line) > 1 and line[-1] in NO_LINE_END:
            line, carry = line[:-1], line[-1] + carry
        lines.append(line)
        line = carry + token
        line_width = pdf.get_string_width(line)
    if line:
        lines.append(line)
    return lines


def _justified(pdf, text: str, *, line_height: float) -> None:
    """A paragraph set flush to both margins (the last line flush left), as in print."""
    lines = _cjk_lines(pdf, text, pdf.epw)
    for index, line in enumerate(lines):
        spare = pdf.epw - pdf.get_string_width(line)
        if index < len(lines) - 1 and spare > 0 and len(line) > 1:
            # Tc is in points: spread the spare width over the gaps between characters.
            pdf.set_char_spacing(spare / (len(line) - 1) * pdf.k)
        pdf.cell(0, line_height, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_char_spacing(0)
