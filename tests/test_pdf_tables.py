"""The documents kit's long tables: streamed or listed, a table is laid out the same, and held pages change nothing."""

import io
import random

import pytest
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import SimpleDocTemplate, Spacer

from documents import pdf
from tests.pdf import pdf_text


def _document(make, rows, *, canvasmaker=None):
    pdf.register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, invariant=1)
    story = [
        pdf.para("Sổ theo dõi"),
        Spacer(1, 300),
        *make(["Số yêu cầu", "Nội dung", "Lượt tải"], iter(rows), [100, 200, 60], align_right=(2,)),
        pdf.para("Hết sổ"),
    ]
    doc.build(story, canvasmaker=canvasmaker or pdf.canvas_with_footer("Chân trang"))
    return out.getvalue(), doc.page


def _rows(count):
    rows = [[f"YC-2026-{n:06d}", ("Nguyễn Văn An · 13/09 08:00–08:30 " * (n % 7)) + "\n" * (n % 3), str(n)] for n in range(count)]
    if count > 5:
        rows[3][1] = "dài " * 3000  # a row taller than a page continues on the next
    return rows


@pytest.mark.parametrize("count", [0, 1, 7, pdf.CHUNK_ROWS, pdf.CHUNK_ROWS + 1, 3 * pdf.CHUNK_ROWS + 17])
def test_a_streamed_table_is_the_listed_table_byte_for_byte(count):
    listed, pages = _document(pdf.table, _rows(count))
    streamed, streamed_pages = _document(pdf.streamed_table, _rows(count))
    assert streamed == listed and streamed_pages == pages


def test_a_streamed_table_reads_its_rows_only_as_pages_reach_them():
    taken = []

    def rows():
        for n, row in enumerate(_rows(2000)):
            taken.append(n)
            yield row

    flowables = pdf.streamed_table(["A", "B", "C"], rows(), [100, 200, 60])
    assert taken == []  # nothing read before the layout asks
    _width, _height = flowables[0].wrap(400, 700)
    parts = flowables[0].split(400, 700)
    assert len(taken) <= 2 * pdf.CHUNK_ROWS and len(parts) == 2


def test_held_pages_encoded_early_give_the_same_file():
    rows = _rows(900)
    early, _pages = _document(pdf.table, rows)

    class Late(pdf.canvas_with_footer("Chân trang")):
        def _compress_last_page(self):
            pass

    late, _pages = _document(pdf.table, rows, canvasmaker=Late)
    assert early == late


def test_the_grid_text_reads_as_before_numbers_after_the_rest_of_each_page():
    data, pages = _document(pdf.table, [["YC-2026-000001", "Nguyễn Văn An", "7"], ["YC-2026-000002", "Lê Thị Hoa", "12"]])
    texts, _reader = pdf_text(data)
    words = " ".join(" ".join(texts).split())
    assert "YC-2026-000001 Nguyễn Văn An YC-2026-000002 Lê Thị Hoa Lượt tải 7 12" in words
    assert f"Trang 1/{pages}" in words


def test_lines_are_wrapped_as_simple_split_wraps_them():
    rng = random.Random(3)
    words = ["Nguyễn", "Văn", "An", "", " ", "  ", "YC-2026-000123", "a" * 40, "\n", "·", "13/09 08:00–08:30"]
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(0, 12)))
        width = rng.uniform(20, 300)
        expected = []
        for paragraph in text.split("\n"):
            for line in simpleSplit(paragraph, pdf.REGULAR, 6.5, width) or [""]:
                while " " not in line and len(line) > 1 and pdfmetrics.stringWidth(line, pdf.REGULAR, 6.5) > width:
                    cut = len(line) - 1
                    while cut > 1 and pdfmetrics.stringWidth(line[:cut], pdf.REGULAR, 6.5) > width:
                        cut -= 1
                    expected.append(line[:cut])
                    line = line[cut:]
                expected.append(line)
        assert pdf._fit(text, pdf.REGULAR, 6.5, width) == expected, text
