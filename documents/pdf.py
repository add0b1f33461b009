"""The kit every official document of the system is set with (ReportLab): fonts, styles, tables, page frame, QR.

Used by the release's hand-over record and by the oversight reports, so
that both print Vietnamese the same way. Text is normalised to NFC and set in
DejaVu, embedded, which covers every Vietnamese letter; nothing falls back to
a built-in PDF font. Long tables are cut into chunks of CHUNK_ROWS rows, each
repeating its header on every page: ReportLab splits one table over pages in
time that grows with the square of its rows, chunks keep a document linear.
`streamed_table` makes those chunks only as the pages reach them, so a register
of any length is read and set without being held, and the pages wait for their
"Trang x/y" footer compressed.
"""

import functools
import re
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.frames import _FUZZ

from governance.timefmt import DATE_TIME, DATE_TIME_SECONDS, local, local_time

FONT_DIR = Path(settings.BASE_DIR) / "assets" / "fonts"
REGULAR, BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"
# Italic is used only for the place-and-date line of the official header; without the oblique face among the fonts
# that line is slanted by hand from the regular face (still the embedded DejaVu Sans).
ITALIC, ITALIC_FILE = "DejaVuSans-Oblique", "DejaVuSans-Oblique.ttf"
CHUNK_ROWS = 200
RECORD_WIDTH = A4[0] - 36 * mm - 12  # the width inside a record's margins and its frame's padding
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
    italic = REGULAR
    if (FONT_DIR / ITALIC_FILE).exists():
        if ITALIC not in registered:
            pdfmetrics.registerFont(TTFont(ITALIC, str(FONT_DIR / ITALIC_FILE)))
        italic = ITALIC
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=italic, boldItalic=BOLD)


def has_italic():
    return ITALIC in pdfmetrics.getRegisteredFontNames()


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
    footer_margin = 12 * mm

    def __init__(self, *args, **kwargs):
        # Without this every page would name Helvetica, a font the PDF does not embed.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or REGULAR
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):  # noqa: N802 - ReportLab's name
        state = dict(self.__dict__)
        # A held page keeps its drawing compressed: a long report's pages cost a fraction of their size until the end.
        state["_code"] = zlib.compress("\n".join(self._code).encode())
        self._pages.append(state)
        self._startPage()

    def save(self):
        total = len(self._pages)
        pages, self._pages = self._pages, []
        while pages:
            state = pages.pop(0)
            self.__dict__.update(state)
            self._code = [zlib.decompress(state["_code"]).decode()]
            self._footer(total)
            super().showPage()
            self._compress_last_page()
        super().save()

    def _compress_last_page(self):
        """Encode the page just finished now, with the filters the document would apply when written: it then waits
        in memory small, and the file is the same."""
        page = self._doc.Pages.pages[-1]
        if not page.compression or not page.stream or page.Contents:
            return
        filters = [pdfdoc.PDFBase85Encode, pdfdoc.PDFZCompress] if rl_config.useA85 else [pdfdoc.PDFZCompress]
        content = page.stream
        for encoder in reversed(filters):
            content = encoder.encode(content)
        stream = pdfdoc.PDFStream(
            pdfdoc.PDFDictionary({"Filter": pdfdoc.PDFArray([pdfdoc.PDFName(f.pdfname) for f in filters])}), content
        )
        stream.__Comment__ = "page stream"
        page.Contents, page.stream = stream, None

    def _footer(self, total):
        width, _height = self._pagesize
        self.saveState()
        self.setFont(REGULAR, 7)
        self.setFillColor(colors.HexColor("#52606d"))
        self.drawString(self.footer_margin, 7 * mm, self.footer_left)
        self.drawRightString(width - self.footer_margin, 7 * mm, f"Trang {self._pageNumber}/{total}")
        self.restoreState()


def canvas_with_footer(text, *, margin=12 * mm):
    """A canvas class whose pages end with `text` on the left and "Trang x/y" on the right, `margin` from the edges."""
    return type("ReportCanvas", (NumberedCanvas,), {"footer_left": nfc(text), "footer_margin": margin})


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
        # A line that fits as it is (spaced as simpleSplit would space it) is kept without measuring word by word.
        if (
            paragraph
            and pdfmetrics.stringWidth(paragraph, font, size) < width - 0.01
            and paragraph == " ".join(paragraph.split())
        ):
            lines.append(paragraph)
            continue
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
        # One text object for the whole grid, its operators written here: each line is placed with its own text
        # matrix and shown in the font subset its characters were given (as ReportLab's own text object does). The
        # right-aligned cells come after the others, in the order a reader extracting the text has always had them.
        shown = _TextShower(canvas_._doc)
        lefts = [fp_str(edge + CELL_PAD_X) for edge in edges]
        code, right_aligned = ["BT"], []
        current = None
        y = top
        for row_index, (row, height) in enumerate(
            ((self.header, self.header_height), *zip(self.rows, self.heights, strict=True))
        ):
            baseline = y - CELL_PAD_TOP - size
            line_y = {}
            for column, lines in enumerate(row):
                face = (BOLD, size) if row_index == 0 else self.fonts[column]
                right = column in self.align_right
                for n, line in enumerate(lines):
                    font, font_size = face
                    if isinstance(line, tuple):
                        line, font, font_size = line
                    if not line:
                        continue
                    at = line_y.get(n)
                    if at is None:
                        at = line_y[n] = fp_str(baseline - n * leading)
                    if right:
                        x = fp_str(edges[column + 1] - CELL_PAD_X - pdfmetrics.stringWidth(line, font, font_size))
                        right_aligned.append((x, at, font, font_size, line))
                        continue
                    current = _show(code, shown, current, lefts[column], at, font, font_size, line)
            y -= height
        for x, at, font, font_size, line in right_aligned:
            current = _show(code, shown, current, x, at, font, font_size, line)
        code.append("ET")
        canvas_._code.append("\n".join(code))
        canvas_.restoreState()


def _show(code, shown, current, x, y, font, size, line):
    """Append the operators placing `line` at (x, y) and showing it; returns the font subset and size in use after."""
    code.append(f"1 0 0 1 {x} {y} Tm")
    for subset, operator in shown(font, line):
        if (font, size, subset) != current:
            current = (font, size, subset)
            code.append(shown.select(font, size, subset))
        code.append(operator)
    return current


class _TextShower:
    """The PDF text-showing operators of a line in one of the embedded TrueType fonts, per font subset.

    The subset a character goes into is fixed for the whole document once given, so a line already shown is looked
    up instead of being encoded again; printable ASCII is always subset 0 under its own codes."""

    LIMIT = 10_000

    def __init__(self, doc):
        self.doc = doc
        cache = getattr(doc, "_shown_lines", None)
        if cache is None:
            cache = doc._shown_lines = {}
        self.cache = cache

    def __call__(self, font, text):
        if text.isascii() and text.isprintable():
            return ((0, f"({escapePDF(text)}) Tj"),)
        key = (font, text)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) > self.LIMIT:
                self.cache.clear()
            # Runs of printable ASCII need no lookup; the others (a few letters, a dash) are encoded once each. Joined,
            # they are what the font's splitString gives for the whole line.
            parts = []
            for run in _RUNS.findall(text):
                if " " <= run[0] <= "~":
                    pieces = ((0, run.encode("ascii")),)
                else:
                    pieces = self.cache.get((font, None, run))
                    if pieces is None:
                        pieces = self.cache[font, None, run] = tuple(pdfmetrics.getFont(font).splitString(run, self.doc))
                for subset, piece in pieces:
                    if parts and parts[-1][0] == subset:
                        parts[-1] = (subset, parts[-1][1] + piece)
                    else:
                        parts.append((subset, piece))
            found = tuple((subset, f"({escapePDF(piece)}) Tj") for subset, piece in parts)
            if len(text) < 60:  # names and labels come back; a file's name and span does not
                self.cache[key] = found
        return found

    def select(self, font, size, subset):
        """The operator selecting a font subset at a size."""
        key = (font, size, subset, "Tf")
        found = self.cache.get(key)
        if found is None:
            name = pdfmetrics.getFont(font).getSubsetInternalName(subset, self.doc)
            found = self.cache[key] = f"{name} {fp_str(size)} Tf"
        return found


_RUNS = re.compile(r"[ -~]+|[^ -~]+")


class StreamedTable(Flowable):
    """A long table whose chunks (FastTables) are made only as the pages reach them, from an iterator.

    Laid out exactly as the list of its chunks would be; the rows already set are let go page by page."""

    def __init__(self, chunks, current=None):
        super().__init__()
        self.chunks, self.current = chunks, current

    def wrap(self, available_width, available_height):
        # Never placed whole: the frame always asks for the part of it that fits.
        self.width, self.height = available_width, available_height + 1
        return self.width, self.height

    def split(self, available_width, available_height):
        current = self.current or next(self.chunks, None)
        if current is None:
            return []
        _width, height = current.wrap(available_width, available_height)
        if height <= available_height + _FUZZ:
            following = next(self.chunks, None)
            return [current] if following is None else [current, StreamedTable(self.chunks, following)]
        parts = current.split(available_width, available_height)
        if not parts:
            # Nothing fits in what is left of this page: the frame moves on and asks again on the next.
            self.current = current
            return []
        return [*parts[:-1], StreamedTable(self.chunks, parts[-1])]


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
    return list(_chunks(header, rows, widths, size=size, fonts=fonts, align_right=align_right))


def streamed_table(header, rows, widths, *, size=7, fonts=None, align_right=()):
    """The same table as `table`, as one flowable that reads `rows` (an iterator) only as the pages reach them: a
    register of any length is set in memory that does not grow with it."""
    return [StreamedTable(_chunks(header, rows, widths, size=size, fonts=fonts, align_right=align_right))]


def _chunks(header, rows, widths, *, size, fonts, align_right):
    register_fonts()
    fonts = fonts or {}
    cell_fonts = [fonts.get(i, REGULAR) for i in range(len(widths))]
    cell_fonts = [font if isinstance(font, tuple) else (font, size) for font in cell_fonts]
    inner = [width - 2 * CELL_PAD_X for width in widths]
    head = [list(_fit_cached(title, BOLD, size, inner[i])) for i, title in enumerate(header)]
    chunk, made = [], False

    def flush():
        return FastTable(head, chunk, widths, fonts=cell_fonts, size=size, align_right=align_right)

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
            yield flush()
            made, chunk = True, []
    if chunk or not made:
        yield flush()


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


# The official layout (Decree 30/2020/NĐ-CP, appendix I): the national header, the number, the place and date, the
# signature block and the recipients ---------------------------------------------------------------------------------

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
# The organisation's digital signature is added to the finished file; the printed block says where it is.
DIGITAL_SIGNATURE_NOTE = "(Ký số của tổ chức trên tệp PDF)"
SLANT = 0.2  # the shear of the hand-slanted place-and-date line, about 11 degrees, close to DejaVu's oblique face


@dataclass(frozen=True)
class Issuer:
    """Who issues a document, as its header names it: the body above (may be empty) and the issuing agency."""

    superior: str
    name: str


@dataclass(frozen=True)
class Heading:
    """What the header of one issued document says: its issuer, its number ("12/BC-TTGS"), the place and the date."""

    issuer: Issuer
    number: str
    place: str
    date: object  # a datetime.date, local to Vietnam


def draft_heading(number: str, *, name: str = "Trung tâm giám sát camera") -> Heading:
    """The header of a document set outside any issuing (a preview, a test): today's date and the number given."""
    return Heading(
        issuer=Issuer(superior=settings.DOCUMENT_SUPERIOR_BODY, name=name),
        number=number,
        place=settings.DOCUMENT_PLACE,
        date=local(timezone.now()).date(),
    )


def document_date(value) -> str:
    """A document's date as Decree 30 writes it: "ngày 03 tháng 12 năm 2026"; days below 10 and January and February
    with a leading zero, the other months without."""
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def place_and_date(place, value) -> str:
    return f"{place}, {document_date(value)}" if place else document_date(value).capitalize()


class Rule(Flowable):
    """A short solid line, centred in its column: under the issuing agency's name and under the motto."""

    def __init__(self, length, *, thickness=0.6, space_before=1.5, space_after=2.5):
        super().__init__()
        self.length, self.thickness = length, thickness
        self.space_before, self.space_after = space_before, space_after

    def wrap(self, available_width, available_height):
        self.available = available_width
        return available_width, self.space_before + self.thickness + self.space_after

    def draw(self):
        x = (self.available - self.length) / 2
        y = self.space_after + self.thickness / 2
        self.canv.saveState()
        self.canv.setStrokeColor(INK)
        self.canv.setLineWidth(self.thickness)
        self.canv.line(x, y, x + self.length, y)
        self.canv.restoreState()


class SlantedLine(Flowable):
    """One centred line in italics: the oblique face where there is one, else the regular face sheared."""

    def __init__(self, text, *, size):
        super().__init__()
        self.text, self.size = nfc(text), size

    def wrap(self, available_width, available_height):
        self.available = available_width
        return available_width, self.size * 1.35

    def draw(self):
        font = ITALIC if has_italic() else REGULAR
        width = pdfmetrics.stringWidth(self.text, font, self.size)
        canvas_ = self.canv
        canvas_.saveState()
        canvas_.setFillColor(INK)
        canvas_.translate(max(0, (self.available - width) / 2), self.size * 0.3)
        if font == REGULAR:
            canvas_.transform(1, 0, SLANT, 1, 0, 0)
        canvas_.setFont(font, self.size)
        canvas_.drawString(0, 0, self.text)
        canvas_.restoreState()


@functools.cache
def _header_styles(size):
    base = ParagraphStyle("official", fontName=REGULAR, fontSize=size, leading=size * 1.3, textColor=INK, alignment=TA_CENTER)
    return {
        "regular": base,
        "bold": ParagraphStyle("official_bold", parent=base, fontName=BOLD),
        "motto": ParagraphStyle("official_motto", parent=base, fontName=BOLD, fontSize=size + 0.5, leading=(size + 0.5) * 1.3),
    }


def _text_width(text, font, size, column):
    """How wide a centred line of `text` is drawn in a column (a longer one wraps: the column's width)."""
    return min(pdfmetrics.stringWidth(nfc(text), font, size), column - 6)


def header_of(heading: Heading, *, width: float, size: float = 10) -> Table:
    return official_header(heading.issuer, heading.number, heading.place, heading.date, width=width, size=size)


def official_header(issuer: Issuer, number: str, place: str, date, *, width: float, size: float = 10) -> Table:
    """The two columns that open an official document: the issuer and its number on the left, the national title,
    the motto and the place and date on the right. `number` is the whole "12/BC-TTGS"; `date` a local date."""
    register_fonts()
    style = _header_styles(size)
    left = min(width * 0.42, 82 * mm)
    right = min(width * 0.58, 112 * mm)
    agency = nfc(issuer.name).upper()
    issuer_cell = []
    if issuer.superior:
        issuer_cell.append(para_in(issuer.superior.upper(), style["regular"]))
    issuer_cell += [
        para_in(agency, style["bold"]),
        # Between a third and a half of the name's line, centred under it.
        Rule(_text_width(agency, BOLD, size, left) * 0.4),
        para_in(f"Số: {number}", style["regular"]),
    ]
    nation_cell = [
        para_in(NATION, style["bold"]),
        para_in(MOTTO, style["motto"]),
        Rule(_text_width(MOTTO, BOLD, size + 0.5, right)),
        SlantedLine(place_and_date(place, date), size=size),
    ]
    made = Table([[issuer_cell, "", nation_cell]], colWidths=[left, width - left - right, right])
    made.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, size),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return made


def para_in(text, style):
    """A paragraph of plain text in a given style (escaped, NFC, line breaks kept)."""
    return Paragraph(escape(nfc(text)).replace("\n", "<br/>"), style)


def _signer_cells(role_line, title_line, note, name, style, small):
    """One signer's five rows: authority (may be empty), position, how it is signed, room to sign, name."""
    return [
        para_in(role_line.upper(), style["bold"]) if role_line else "",
        para_in(title_line.upper(), style["bold"]),
        para_in(note, small) if note else "",
        # Room to sign above a name; a document nobody signs by hand (one the system makes by itself) needs none.
        Spacer(1, 14 * mm) if name else "",
        para_in(name, style["bold"]) if name else "",
    ]


def signature_block(
    title_line: str,
    name: str,
    role_line: str | None = None,
    *,
    recipients=(),
    counterpart=None,
    width: float,
    size: float = 10,
    note: str = DIGITAL_SIGNATURE_NOTE,
) -> KeepTogether:
    """The signer's block, on the right: position (upper case, bold), a line saying how the file is signed, room,
    then the name. On the left the recipients ("Nơi nhận:") where there are any, or the other party of a record,
    `counterpart` = (role, title, note, name), its lines level with the signer's. Never split across pages."""
    register_fonts()
    style = _header_styles(size)
    small = ParagraphStyle("official_small", parent=style["regular"], fontSize=size - 2, leading=(size - 2) * 1.3)
    signer = _signer_cells(role_line, title_line, note, name, style, small)
    commands = [
        ("FONT", (0, 0), (-1, -1), REGULAR, size),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
    ]
    if counterpart:
        left = _signer_cells(*counterpart, style, small)
    else:
        left = [""] * len(signer)
        if recipients:
            heading = ParagraphStyle("recipients_heading", parent=small, fontName=BOLD, fontSize=size - 1, alignment=TA_LEFT)
            listed = ParagraphStyle("recipients", parent=small, alignment=TA_LEFT)
            lines = [f"- {line};" for line in recipients[:-1]] + [f"- {recipients[-1]}."]
            left[0] = [para_in("Nơi nhận:", heading), *(para_in(line, listed) for line in lines)]
            # The list takes the left column's whole height, beside the signer's lines.
            commands.append(("SPAN", (0, 0), (0, len(signer) - 1)))
    right = min(width * 0.5, 95 * mm)
    made = Table([list(row) for row in zip(left, signer, strict=True)], colWidths=[width - right, right])
    made.setStyle(TableStyle(commands))
    return KeepTogether([Spacer(1, 5 * mm), made])
