"""The kit every official document of the system is set with (ReportLab): fonts, styles, tables, page frame, QR.

Used by the release's hand-over record and by the oversight reports, so
that both print Vietnamese the same way. Text is normalised to NFC and set in
DejaVu, embedded, which covers every Vietnamese letter; nothing falls back to
a built-in PDF font. Long tables are cut into chunks of CHUNK_ROWS rows, each
repeating its header on every page: ReportLab splits one table over pages in
time that grows with the square of its rows, chunks keep a document linear.
"""

import functools
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from governance.timefmt import DATE_TIME, DATE_TIME_SECONDS, local_time

FONT_DIR = Path(settings.BASE_DIR) / "assets" / "fonts"
REGULAR, BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"
CHUNK_ROWS = 200
MONO_ADVANCE = 0.602  # DejaVu Sans Mono: every glyph is 1233/2048 em wide
INK = colors.HexColor("#1f2933")
HEAD_FILL = colors.HexColor("#e6edf5")
RULE = colors.HexColor("#9aa5b1")
WARNING_INK = colors.HexColor("#b03a2e")


def register_fonts():
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file_name in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"), (MONO, "DejaVuSansMono.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file_name)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def nfc(text):
    return unicodedata.normalize("NFC", str(text if text is not None else ""))


# Formatting, Vietnamese conventions: 1.234.567 and 12,5 ------------------------------


def number(value):
    return f"{value:,}".replace(",", ".")


def decimal(value, digits=1):
    if value is None:
        return "—"
    whole, _, fraction = f"{value:,.{digits}f}".partition(".")
    return whole.replace(",", ".") + ("," + fraction if fraction else "")


def when(moment, *, seconds=False):
    """Vietnam time with the zone named, as every document prints it (`governance.timefmt.local_time`)."""
    return local_time(moment, DATE_TIME_SECONDS if seconds else DATE_TIME)


def day(value):
    return value.strftime("%d/%m/%Y")


# Styles and the page frame ---------------------------------------------------------------


@functools.cache
def styles():
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=20, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=14, alignment=TA_CENTER),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=10, leading=13, spaceBefore=6, spaceAfter=3),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7.5, leading=9.5),
        # What the reader must not miss: bold red on a pale red box.
        "warning": ParagraphStyle(
            "warning",
            parent=base,
            fontName=BOLD,
            textColor=WARNING_INK,
            backColor=colors.HexColor("#fdecea"),
            borderColor=WARNING_INK,
            borderWidth=0.8,
            borderPadding=4,
            # The box, drawn outside the text by its padding, lines up with the tables below.
            leftIndent=4,
            rightIndent=4,
            spaceBefore=6,
            spaceAfter=8,
        ),
    }


def para(text, style="base"):
    return Paragraph(escape(nfc(text)).replace("\n", "<br/>"), styles()[style])


class NumberedCanvas(canvas.Canvas):
    """Holds each page until the end so the footer can say "Trang 3/120"."""

    footer_left = ""

    def __init__(self, *args, **kwargs):
        # Without this every page would name Helvetica, a font the PDF does not embed.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or REGULAR
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total):
        width, _height = self._pagesize
        self.saveState()
        self.setFont(REGULAR, 7)
        self.setFillColor(colors.HexColor("#52606d"))
        self.drawString(12 * mm, 7 * mm, self.footer_left)
        self.drawRightString(width - 12 * mm, 7 * mm, f"Trang {self._pageNumber}/{total}")
        self.restoreState()


def canvas_with_footer(text):
    return type("ReportCanvas", (NumberedCanvas,), {"footer_left": nfc(text)})


def page_header(title):
    def draw(pdf, doc):
        width, height = doc.pagesize
        pdf.saveState()
        pdf.setFont(REGULAR, 7)
        pdf.setFillColor(colors.HexColor("#52606d"))
        pdf.drawString(12 * mm, height - 8 * mm, nfc(title))
        pdf.setStrokeColor(RULE)
        pdf.setLineWidth(0.3)
        pdf.line(12 * mm, height - 9.5 * mm, width - 12 * mm, height - 9.5 * mm)
        pdf.restoreState()

    return draw


# Tables ------------------------------------------------------------------------------------


def _fit(text, font, size, width):
    """Lines of `text` no wider than `width`: at spaces where possible, inside a long word (a code, a hash) where not."""
    lines = []
    for paragraph in nfc(text).split("\n"):
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            # simpleSplit fits every line that has a space in it; a single long word may still overflow.
            while " " not in line and len(line) > 1 and pdfmetrics.stringWidth(line, font, size) > width:
                # Keep as many characters as fit; the rest goes on the next line.
                cut = len(line) - 1
                while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    return lines


_fit_cached = functools.lru_cache(maxsize=8192)(lambda text, font, size, width: tuple(_fit(text, font, size, width)))

CELL_PAD_X, CELL_PAD_TOP, CELL_PAD_BOTTOM = 2.5, 1.6, 2.2
# Taller than this a row may not fit on any page: it is split between lines instead of moved whole.
TALL_ROW = 400


class FastTable(Flowable):
    """A grid of plain text cells, drawn straight onto the canvas, that splits between rows and repeats its header.

    ReportLab's Table measures and draws every cell as a separate object;
    a register of twenty thousand releases needs something leaner. Cells are
    wrapped once, when the table is made (columns of codes and hashes are
    broken inside words), and a page of rows becomes a single text object."""

    def __init__(self, header, rows, widths, *, fonts, size, align_right=(), heights=None):
        super().__init__()
        self.header, self.rows, self.widths = header, rows, widths
        self.fonts, self.size, self.align_right = fonts, size, set(align_right)
        self.leading = size + 1.8
        self.header_height = self._height(header)
        self.heights = heights if heights is not None else [self._height(row) for row in rows]

    def _height(self, row):
        return max((len(lines) for lines in row), default=1) * self.leading + CELL_PAD_TOP + CELL_PAD_BOTTOM

    def wrap(self, available_width, available_height):
        self.width = sum(self.widths)
        self.height = self.header_height + sum(self.heights)
        return self.width, self.height

    def split(self, available_width, available_height):
        room = available_height - self.header_height
        taken, used = 0, 0.0
        while taken < len(self.rows) and used + self.heights[taken] <= room:
            used += self.heights[taken]
            taken += 1
        make = lambda rows, heights=None: FastTable(  # noqa: E731
            self.header, rows, self.widths, fonts=self.fonts, size=self.size, align_right=self.align_right, heights=heights
        )
        if taken == 0:
            lines = int((room - CELL_PAD_TOP - CELL_PAD_BOTTOM) // self.leading)
            if not self.rows or self.heights[0] <= TALL_ROW or lines < 1:
                return []  # the frame moves the whole table to the next page, where the row fits
            # A row taller than any page (a very long reason, say) continues on the next page, line by line.
            first = [cell[:lines] for cell in self.rows[0]]
            rest = [cell[lines:] for cell in self.rows[0]]
            return [make([first]), make([rest, *self.rows[1:]], [self._height(rest), *self.heights[1:]])]
        return [make(self.rows[:taken], self.heights[:taken]), make(self.rows[taken:], self.heights[taken:])]

    def draw(self):
        canvas_, size, leading = self.canv, self.size, self.leading
        top = self.header_height + sum(self.heights)
        edges = [0.0]
        for width in self.widths:
            edges.append(edges[-1] + width)
        canvas_.saveState()
        canvas_.setFillColor(HEAD_FILL)
        canvas_.rect(0, top - self.header_height, edges[-1], self.header_height, stroke=0, fill=1)
        canvas_.setStrokeColor(RULE)
        canvas_.setLineWidth(0.25)
        y, rules = top, [(0, top, edges[-1], top)]
        for height in [self.header_height, *self.heights]:
            y -= height
            rules.append((0, y, edges[-1], y))
        rules += [(x, top, x, 0) for x in edges]
        canvas_.lines(rules)
        canvas_.setFillColor(INK)
        text = canvas_.beginText()
        right_aligned = []
        y = top
        for row_index, (row, height) in enumerate(
            ((self.header, self.header_height), *zip(self.rows, self.heights, strict=True))
        ):
            baseline = y - CELL_PAD_TOP - size
            for column, lines in enumerate(row):
                font, font_size = (BOLD, size) if row_index == 0 else self.fonts[column]
                if column in self.align_right:
                    right_aligned.extend(
                        (edges[column + 1] - CELL_PAD_X, baseline - n * leading, font, font_size, line)
                        for n, line in enumerate(lines)
                    )
                    continue
                text.setFont(font, font_size, leading)
                current = (font, font_size)
                for n, line in enumerate(lines):
                    if isinstance(line, tuple):
                        line, *face = line
                        if tuple(face) != current:
                            current = tuple(face)
                            text.setFont(*current, leading)
                    text.setTextOrigin(edges[column] + CELL_PAD_X, baseline - n * leading)
                    text.textOut(line)
            y -= height
        canvas_.drawText(text)
        for x, baseline, font, font_size, line in right_aligned:
            canvas_.setFont(font, font_size)
            canvas_.drawRightString(x, baseline, line)
        canvas_.restoreState()


class Lines(list):
    """A cell given as (text, font, size) lines, each wrapped on its own in its own face."""

    def fitted(self, width):
        lines = []
        for text, font, size in self:
            # A monospaced line's width is its length: hashes need no measuring.
            if font == MONO and len(text) * MONO_ADVANCE * size <= width:
                lines.append((text, font, size))
            else:
                lines.extend((part, font, size) for part in _fit_cached(text, font, size, width))
        return lines


def table(header, rows, widths, *, size=7, fonts=None, align_right=()):
    """Flowables for a table of any length, in chunks of CHUNK_ROWS rows that each split between pages."""
    register_fonts()
    fonts = fonts or {}
    cell_fonts = [fonts.get(i, REGULAR) for i in range(len(widths))]
    cell_fonts = [font if isinstance(font, tuple) else (font, size) for font in cell_fonts]
    inner = [width - 2 * CELL_PAD_X for width in widths]
    head = [list(_fit_cached(title, BOLD, size, inner[i])) for i, title in enumerate(header)]
    chunk, flowables = [], []

    def flush():
        flowables.append(FastTable(head, chunk, widths, fonts=cell_fonts, size=size, align_right=align_right))

    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, Lines):
                cells.append(cell.fitted(inner[i]))
                continue
            value = "" if cell is None else str(cell)
            font, font_size = cell_fonts[i]
            # Short repeated values (names, codes) come from the cache; long unique ones are wrapped afresh.
            cells.append(
                list(_fit_cached(value, font, font_size, inner[i]) if len(value) < 80 else _fit(value, font, font_size, inner[i]))
            )
        chunk.append(cells)
        if len(chunk) == CHUNK_ROWS:
            flush()
            chunk = []
    if chunk or not flowables:
        flush()
    return flowables


def key_values(pairs, widths=(70 * mm, 180 * mm)):
    rows = [[para(label, "small"), para(value, "small")] for label, value in pairs]
    # A long purpose or reason may be taller than a page: let it continue inside the row.
    made = Table(rows, colWidths=list(widths), splitInRow=1)
    made.setStyle(
        TableStyle(
            [
                # Tables set a font even around paragraphs; left alone it would be Helvetica, not embedded.
                ("FONT", (0, 0), (-1, -1), REGULAR, 8),
                ("GRID", (0, 0), (-1, -1), 0.25, RULE),
                ("BACKGROUND", (0, 0), (0, -1), HEAD_FILL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return made


# QR codes -------------------------------------------------------------------------------------


def qr_drawing(data: str, size: float = 32 * mm) -> Drawing:
    """A QR code of `data`, `size` points square, error correction M."""
    widget = QrCodeWidget(data, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.initialFontName = REGULAR
    drawing.add(widget)
    return drawing


# The records of one release or one check (the hand-over record, the verification record): A4, with the margins of an
# official record (biên bản).


def record_document(buffer, *, title: str, author: str = "") -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        initialFontName=REGULAR,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=nfc(title),
        author=nfc(author),
    )
