"""The oversight report and the request dossier as PDF, always in Vietnamese, set with the documents kit."""

import datetime as dt

from django.conf import settings
from django.utils import translation
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from audit.models import Action
from documents.pdf import (
    BOLD,
    MONO,
    REGULAR,
    RULE,
    Lines,
    canvas_with_footer,
    day,
    decimal,
    draft_heading,
    header_of,
    key_values,
    nfc,
    number,
    page_header,
    para,
    register_fonts,
    signature_block,
    streamed_table,
    table,
    when,
)
from governance.timefmt import duration_text, local, local_time
from oversight.report_data import KIND_ORDER, PATTERN_TITLES, WEEK_SERIES, activity_by_person

SERIES_COLOURS = [colors.HexColor(c) for c in ("#2f6f4f", "#b03a2e", "#8a8f98", "#d4a017", "#2c5d8f")]


# Charts, ReportLab's own graphics -------------------------------------------------------------


def _font_chart(chart):
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = REGULAR
        axis.labels.fontSize = 6.5
        axis.strokeColor = RULE
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e4e7eb")
    chart.valueAxis.visibleGrid = True


def _drawing(width, height):
    drawing = Drawing(width, height)
    # The renderer starts each drawing in Helvetica (not embedded) unless told otherwise.
    drawing.initialFontName = REGULAR
    return drawing


def weekly_chart(weekly, series, width=160 * mm, height=62 * mm):
    drawing = _drawing(width, height)
    drawing.add(String(0, height - 8, nfc("Số yêu cầu gửi mỗi tuần, theo tình trạng khi kết thúc kỳ"), fontName=BOLD, fontSize=8))
    chart = VerticalBarChart()
    # A few weeks keep slim bars: the plot widens with the weeks up to the space there is.
    chart.x, chart.y, chart.height = 28, 30, height - 48
    chart.width = min(width - 140, max(len(weekly), 6) * 9 * mm)
    keys = [key for key, _label, _statuses in series]
    chart.data = [[counts[key] for _day, counts in weekly] or [0] for key in keys]
    chart.categoryAxis.style = "stacked"
    step = max(1, len(weekly) // 14)
    chart.categoryAxis.categoryNames = [
        start.strftime("%d/%m") if i % step == 0 else "" for i, (start, _counts) in enumerate(weekly)
    ] or [""]
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda value: number(int(value)) if value == int(value) else ""
    chart.barSpacing = 0
    chart.groupSpacing = 2
    for i in range(len(keys)):
        chart.bars[i].fillColor = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.bars[i].strokeColor = None
    _font_chart(chart)
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 104, height - 22
    legend.fontName, legend.fontSize = REGULAR, 7
    legend.alignment = "right"
    legend.columnMaximum = 6
    legend.colorNamePairs = [(SERIES_COLOURS[i % len(SERIES_COLOURS)], nfc(label)) for i, (_k, label, _s) in enumerate(series)]
    drawing.add(legend)
    return drawing


# The opening charts: four at a glance, two by two. Each pair of series is a dark and a light colour, so that they
# stay apart on a grey-scale print.
DARK, LIGHT = SERIES_COLOURS[4], SERIES_COLOURS[3]
ON_TIME, LATE = SERIES_COLOURS[0], colors.HexColor("#e59a8f")
NO_DATA = "Không có dữ liệu trong kỳ"
MUTED = colors.HexColor("#5f6b7a")


def _integer_scale(axis, largest, headroom=1.0):
    """Whole-number ticks, at most six, from 0 to a round value at or above `largest` × `headroom`."""
    top = max(1, largest * headroom)
    step = next(s * 10**k for k in range(12) for s in (1, 2, 5) if top / (s * 10**k) <= 5)
    axis.valueMin, axis.valueStep = 0, step
    axis.valueMax = step * -(-top // step)
    axis.labelTextFormat = lambda value: number(int(value))
    return axis.valueMax


def _titled(width, height, title, subtitle=""):
    drawing = _drawing(width, height)
    drawing.add(String(0, height - 9, nfc(title), fontName=BOLD, fontSize=9))
    if subtitle:
        drawing.add(String(0, height - 20, nfc(subtitle), fontName=REGULAR, fontSize=7, fillColor=MUTED))
    return drawing


def _no_data(drawing, width, height):
    drawing.add(String(width / 2, height / 2 - 10, NO_DATA, fontName=REGULAR, fontSize=9, fillColor=MUTED, textAnchor="middle"))
    return drawing


def _legend(drawing, x, y, pairs):
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = REGULAR, 7
    legend.dx = legend.dy = 7
    legend.alignment = "right"  # the swatch, then its words
    legend.columnMaximum = 1  # one row, side by side
    legend.deltax = max(stringWidth(nfc(label), REGULAR, 7) for _colour, label in pairs) + 24
    legend.colorNamePairs = [(colour, nfc(label)) for colour, label in pairs]
    drawing.add(legend)


def _axis_title(drawing, x, y, text, *, vertical=False, anchor="middle"):
    title = String(0, 0, nfc(text), fontName=REGULAR, fontSize=6.5, fillColor=MUTED, textAnchor=anchor)
    group = Group(title)
    group.translate(x, y)
    if vertical:
        group.rotate(90)
    drawing.add(group)


def _fit(text, width, size=6.5):
    """`text` cut (with an ellipsis) to fit `width` points."""
    text = nfc(text)
    if stringWidth(text, REGULAR, size) <= width:
        return text
    while text and stringWidth(text + "…", REGULAR, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _bar_values(chart, size=6):
    chart.barLabels.fontName, chart.barLabels.fontSize = REGULAR, size
    chart.barLabelFormat = lambda value: number(int(value)) if value else ""


def _bucket_name(start, unit, scope):
    if unit == "month":
        return start.strftime("%m/%Y")
    # A week cut by the period's edges is named by the days of it the period holds.
    first, last = max(start, scope.date_from), min(start + dt.timedelta(days=6), scope.date_to)
    return first.strftime("%d/%m") if first == last else f"{first:%d/%m}–{last:%d/%m}"


def timeline_chart(charts, scope, width, height):
    """Requests filed and releases handed over per month (per week for a period inside one month), side by side."""
    per = "tháng" if charts.unit == "month" else "tuần"
    drawing = _titled(width, height, f"Yêu cầu gửi và lần cung cấp dữ liệu theo {per}")
    timeline = charts.timeline
    if not any(filed or released for _start, filed, released in timeline):
        return _no_data(drawing, width, height)
    _legend(drawing, 36, height - 19, [(DARK, "Yêu cầu gửi"), (LIGHT, "Lần cung cấp dữ liệu")])
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 36, 34, width - 44, height - 34 - 34
    chart.data = [[filed for _s, filed, _r in timeline], [released for _s, _f, released in timeline]]
    _integer_scale(chart.valueAxis, max(max(row) for row in chart.data), 1.12)
    step = max(1, -(-len(timeline) // 14))
    chart.categoryAxis.categoryNames = [
        _bucket_name(start, charts.unit, scope) if i % step == 0 else "" for i, (start, _f, _r) in enumerate(timeline)
    ]
    if len(timeline) > 7:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.barSpacing, chart.groupSpacing = 1, 6
    for i, colour in enumerate((DARK, LIGHT)):
        chart.bars[i].fillColor, chart.bars[i].strokeColor = colour, None
    if len(timeline) <= 8:
        _bar_values(chart)
        chart.barLabels.nudge = 5
    _font_chart(chart)
    drawing.add(chart)
    _axis_title(drawing, 8, chart.y + chart.height / 2, "Số lượng", vertical=True)
    days = "tuần từ thứ Hai đến Chủ nhật, trong kỳ" if charts.unit == "week" else "tháng/năm"
    _axis_title(drawing, chart.x + chart.width / 2, 2, f"Thời gian ({days})")
    return drawing


def ranking_chart(bars, title, value_title, what, width, height):
    """Requests filed as horizontal bars, the most first; the rest summed in one "Khác" bar."""
    drawing = _titled(width, height, title)
    if not bars:
        return _no_data(drawing, width, height)
    # At least six slots (at most the ten named and "Khác"), so one busy agency gets a bar, not a block.
    slots = max(len(bars), 6)
    labels = [f"Khác ({number(b.folded)} {what})" if b.folded else b.label for b in bars]
    label_width = 64 * mm
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = label_width + 4, 22, width - label_width - 26, height - 22 - 16
    values = [b.value for b in bars] + [0] * (slots - len(bars))
    chart.data = [values[::-1]]
    chart.categoryAxis.categoryNames = ([_fit(label, label_width) for label in labels] + [""] * (slots - len(bars)))[::-1]
    _integer_scale(chart.valueAxis, max(values), 1.1)
    chart.bars[0].fillColor, chart.bars[0].strokeColor = DARK, None
    chart.barWidth, chart.groupSpacing = 7, 3
    _bar_values(chart)
    chart.barLabels.boxAnchor, chart.barLabels.dx = "w", 2
    _font_chart(chart)
    drawing.add(chart)
    _axis_title(drawing, chart.x + chart.width, 2, value_title, anchor="end")
    return drawing


def _percent(part, whole):
    return f"{decimal(100 * part / whole)}%"


def deadline_chart(deadlines, width, height):
    """Decisions of the period within and after their deadline, stacked per urgency, with the share on time."""
    total = sum(d.on_time + d.late for d in deadlines)
    on_time = sum(d.on_time for d in deadlines)
    subtitle = (
        f"Phê duyệt, từ chối trong kỳ: {_percent(on_time, total)} đúng hạn ({number(on_time)}/{number(total)})" if total else ""
    )
    drawing = _titled(width, height, "Quyết định đúng hạn và trễ hạn theo mức độ khẩn", subtitle)
    if not total:
        return _no_data(drawing, width, height)
    _legend(drawing, width - 118, height - 19, [(ON_TIME, "Đúng hạn"), (LATE, "Trễ hạn")])
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 36, 34, width - 44, height - 34 - 38
    chart.data = [[d.on_time for d in deadlines], [d.late for d in deadlines]]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [
        nfc(f"{d.label} ({number(d.on_time + d.late)} quyết định)") if d.on_time + d.late else nfc(d.label) for d in deadlines
    ]
    top = _integer_scale(chart.valueAxis, max(d.on_time + d.late for d in deadlines), 1.2)
    chart.barWidth, chart.groupSpacing = 10, 14
    for i, colour in enumerate((ON_TIME, LATE)):
        chart.bars[i].fillColor, chart.bars[i].strokeColor = colour, None
    _bar_values(chart, 6.5)
    # A segment lower than the text would be covered by its count: the count is left to the share above.
    lowest = top * 9 / chart.height
    chart.barLabelFormat = lambda value: number(int(value)) if value >= lowest else ""
    chart.barLabels.boxTarget = "mid"
    # White on the dark segment, black on the light one.
    chart.barLabels[0].fillColor = colors.white
    _font_chart(chart)
    drawing.add(chart)
    for i, d in enumerate(deadlines):
        decided = d.on_time + d.late
        if not decided:
            continue
        x = chart.x + (i + 0.5) * chart.width / len(deadlines)
        y = chart.y + chart.height * decided / top + 3
        drawing.add(String(x, y, f"{_percent(d.on_time, decided)} đúng hạn", fontName=BOLD, fontSize=7, textAnchor="middle"))
    _axis_title(drawing, 8, chart.y + chart.height / 2, "Số quyết định", vertical=True)
    _axis_title(drawing, chart.x + chart.width / 2, 2, "Mức độ khẩn (hạn xử lý theo mức độ khi gửi)")
    return drawing


def _charts_section(data):
    """Four charts opening the report, two by two; each says so when the period holds nothing to draw."""
    charts = data.charts
    if charts is None:  # report data put together without `collect`
        return []
    cell = CONTENT_WIDTH / 2
    width, height = cell - 8, 62 * mm
    grid = Table(
        [
            [
                timeline_chart(charts, data.scope, width, height),
                ranking_chart(
                    charts.by_agency, "Yêu cầu gửi theo cơ quan đề nghị", "Số yêu cầu gửi trong kỳ", "cơ quan", width, height
                ),
            ],
            [
                ranking_chart(
                    charts.by_legal_basis, "Yêu cầu gửi theo căn cứ pháp lý", "Số yêu cầu gửi trong kỳ", "căn cứ", width, height
                ),
                deadline_chart(charts.deadlines, width, height),
            ],
        ],
        colWidths=[cell, cell],
    )
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, RULE),
                ("BOX", (0, 0), (-1, -1), 0.4, RULE),
                *((side, (0, 0), (-1, -1), 4) for side in ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")),
            ]
        )
    )
    # The heading never stands alone at the foot of a page: it goes with the first row of charts.
    return [CondPageBreak(height + 16 * mm), para("Tổng quan trong kỳ", "h1"), grid, Spacer(1, 2 * mm)]


# The period report --------------------------------------------------------------------------------

PAGE = landscape(A4)
CONTENT_WIDTH = PAGE[0] - 24 * mm - 12  # margins, and the frame's 6 pt padding on each side
OUTCOME_HEADER = ["Gửi", "Phê duyệt", "Từ chối", "Rút lại", "Hết hạn", "Đã cung cấp"]
DATE_COLUMN = 36 * mm  # "03/12/2026 08:02 (UTC+7)" on one line at 7 pt
SECONDS_COLUMN = 40 * mm  # "03/12/2026 08:02:54 (UTC+7)" on one line at 7 pt


def _rest_last(*widths):
    """Column widths for a full-width table: those given, then the last column takes what is left."""
    return [*widths, CONTENT_WIDTH - sum(widths)]


def _scope_lines(data, meta):
    scope = data.scope
    lines = [
        ("Kỳ báo cáo", f"từ {day(scope.date_from)} đến {day(scope.date_to)} ({number(scope.days)} ngày, giờ Việt Nam)"),
        ("Cơ quan", scope.agency.name_vi if scope.agency else "Tất cả"),
        ("Địa bàn", scope.area.name_vi if scope.area else "Tất cả"),
        ("Căn cứ pháp lý", f"{scope.legal_basis.code} — {scope.legal_basis.title_vi}" if scope.legal_basis else "Tất cả"),
        ("Phạm vi thẩm quyền", scope.jurisdiction.name_vi if scope.jurisdiction else "Toàn hệ thống"),
        (
            "Cách chọn theo địa bàn",
            "Theo địa bàn của cơ quan đề nghị, không theo nơi đặt camera (camera đặt ở đâu: xem bảng 1.2)",
        ),
        ("Mã báo cáo", meta["code"]),
        ("Người lập", meta["author"]),
        ("Thời điểm lập", when(data.generated_at, seconds=True)),
    ]
    return lines


def _breakdown_table(title, rows):
    header = [title, *OUTCOME_HEADER]
    body = [
        [
            "Không xác định" if b.label == "?" else b.label,
            *(number(b.counts[name]) for name in ("filed", "approved", "rejected", "withdrawn", "expired", "released")),
        ]
        for b in rows
    ]
    widths = [CONTENT_WIDTH - 6 * 24 * mm] + [24 * mm] * 6
    if not body:
        return [para("Không có yêu cầu nào trong kỳ.", "small")]
    return table(header, body, widths, size=7, align_right=range(1, 7))


def _summary_section(data):
    s = data.summary
    outcomes = [
        ("Yêu cầu gửi trong kỳ", number(s["filed"])),
        ("Được phê duyệt", number(s["approved"])),
        ("Bị từ chối", number(s["rejected"])),
        ("Bị rút lại", number(s["withdrawn"])),
        ("Hết hạn (không bổ sung thông tin)", number(s["expired"])),
        ("Đã cung cấp dữ liệu", number(s["released"])),
    ]
    footage_and_deadlines = [
        ("Thời lượng ghi hình đã cung cấp", _hours(s["footage_hours"])),
        ("Số camera có dữ liệu được cung cấp", number(s["cameras"])),
        ("Còn mở khi kết thúc kỳ (chưa có quyết định)", number(s["open_at_end"])),
        ("Quá hạn khi kết thúc kỳ (chờ quyết định sau hạn xử lý)", number(s["overdue_at_end"])),
        ("Trễ hạn trong kỳ", number(s["late"])),
        ("Bị thu hẹp phạm vi khi phê duyệt", number(s["narrowed"])),
        ("Yêu cầu của chủ thể dữ liệu (tiếp nhận tại Trung tâm)", number(s["subject_requests"])),
        ("Lần cung cấp bản che mờ / thời lượng che mờ", f"{number(s['redacted_releases'])} / {_hours(s['redacted_hours'])}"),
        ("Vùng của người khác đã được che mờ", number(s["regions_blurred"])),
    ]
    # Two columns side by side, so that the weekly chart still fits on the summary's first page.
    columns = Table(
        [[key_values(outcomes, (88 * mm, 40 * mm)), key_values(footage_and_deadlines, (88 * mm, 40 * mm))]],
        colWidths=[134 * mm, 134 * mm],
    )
    columns.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), REGULAR, 8), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [para("1. Tổng hợp", "h1"), columns, Spacer(1, 4 * mm)]
    # The agencies' chart opens the report; the weeks by where their requests stood at the end stay here.
    story += [weekly_chart(data.weekly, WEEK_SERIES), Spacer(1, 3 * mm)]
    story += [para("1.1. Theo cơ quan đề nghị", "h2"), *_breakdown_table("Cơ quan", data.by_agency)]
    story += [
        para("1.2. Theo nơi đặt camera", "h2"),
        para(
            "Nơi các camera trong yêu cầu được đặt, theo phạm vi đã gửi. Một yêu cầu có camera ở nhiều địa bàn được tính "
            "một lần ở mỗi địa bàn, nên tổng các dòng có thể lớn hơn số yêu cầu.",
            "small",
        ),
        *_breakdown_table("Địa bàn đặt camera", data.by_camera_area),
    ]
    story += [para("1.3. Theo căn cứ pháp lý", "h2"), *_breakdown_table("Căn cứ pháp lý", data.by_legal_basis)]
    story += [para("1.4. Theo mức độ khẩn", "h2"), *_breakdown_table("Mức độ", data.by_urgency)]
    story.append(para("1.5. Theo loại dữ liệu", "h2"))
    if data.by_category:
        story += table(
            ["Loại dữ liệu", "Yêu cầu gửi có loại này", "Hạng mục đề nghị", "Hạng mục đã cung cấp", "Thời lượng đã cung cấp"],
            [
                [r.label, number(r.requests_filed), number(r.items_filed), number(r.released_items), _hours(r.released_hours)]
                for r in data.by_category
            ],
            [CONTENT_WIDTH - 4 * 38 * mm] + [38 * mm] * 4,
            align_right=range(1, 5),
        )
    else:
        story.append(para("Không có dữ liệu nào được đề nghị hoặc cung cấp trong kỳ.", "small"))
    return story


def _turnaround_section(data):
    t = data.turnaround
    figures = [
        ("Số quyết định (phê duyệt, từ chối) trong kỳ", number(t["decisions"])),
        ("Thời gian từ khi gửi lần đầu đến khi quyết định — trung vị", _hours(t["decision_median"])),
        ("Thời gian từ khi gửi lần đầu đến khi quyết định — phân vị 90", _hours(t["decision_p90"])),
        ("Số lần cung cấp dữ liệu trong kỳ", number(t["releases"])),
        ("Thời gian từ khi gửi lần đầu đến khi cung cấp — trung vị", _hours(t["release_median"])),
        ("Thời gian từ khi gửi lần đầu đến khi cung cấp — phân vị 90", _hours(t["release_p90"])),
        ("Số yêu cầu trễ hạn xử lý trong kỳ", number(len(t["late"]))),
        (
            "Số yêu cầu còn mở khi kết thúc kỳ / trong đó quá hạn",
            f"{number(data.summary['open_at_end'])} / {number(data.summary['overdue_at_end'])}",
        ),
    ]
    story = [para("2. Thời gian xử lý", "h1"), key_values(figures, (110 * mm, 60 * mm))]
    story += [
        para("2.1. Yêu cầu trễ hạn xử lý trong kỳ", "h2"),
        para(
            "Yêu cầu được quyết định trong kỳ sau hạn xử lý, và yêu cầu có hạn xử lý rơi vào kỳ khi vẫn đang chờ cơ quan "
            "xem xét, phê duyệt: thời gian trễ tính đến lúc cơ quan xử lý (quyết định hoặc đề nghị bổ sung thông tin) hoặc "
            "cơ quan đề nghị rút yêu cầu, hoặc đến hết kỳ nếu vẫn chờ. Cột “Gửi lần đầu” là lần gửi đầu tiên; “Hạn xử lý” là hạn đã bị trễ.",
            "small",
        ),
    ]
    if t["late"]:
        story += table(
            ["Số yêu cầu", "Cơ quan", "Căn cứ", "Mức độ", "Gửi lần đầu", "Hạn xử lý", "Xử lý sau hạn", "Trễ hạn"],
            [
                [
                    r.reference,
                    r.agency,
                    r.legal_basis,
                    r.urgency,
                    when(r.submitted_at),
                    when(r.due_at),
                    f"{when(r.acted_at)}\n{r.acted}" if r.acted_at else "chưa xử lý khi kết thúc kỳ",
                    _hours(r.hours_late),
                ]
                for r in t["late"]
            ],
            _rest_last(28 * mm, 52 * mm, 38 * mm, 16 * mm, DATE_COLUMN, DATE_COLUMN, DATE_COLUMN),
            align_right=(7,),
        )
    else:
        story.append(para("Không có yêu cầu nào trễ hạn xử lý trong kỳ.", "small"))
    story += [
        CondPageBreak(30 * mm),
        para("2.2. Yêu cầu còn mở và quá hạn khi kết thúc kỳ", "h2"),
        para(
            "Yêu cầu đã gửi nhưng chưa có quyết định vào thời điểm kết thúc kỳ, kể cả yêu cầu gửi từ trước kỳ; yêu cầu quá "
            "hạn xếp trước, thời gian quá hạn tính đến hết kỳ. Yêu cầu đang chờ bổ sung thông tin chờ bên đề nghị nên không "
            "tính quá hạn.",
            "small",
        ),
    ]
    if data.open_at_end:
        story += table(
            [
                "Số yêu cầu",
                "Cơ quan",
                "Căn cứ",
                "Mức độ",
                "Gửi lần đầu",
                "Tình trạng khi kết thúc kỳ",
                "Hạn xử lý",
                "Quá hạn",
            ],
            [
                [
                    r.reference,
                    r.agency,
                    r.legal_basis,
                    r.urgency,
                    when(r.first_filed_at),
                    r.state,
                    when(r.due_at),
                    _hours(r.hours_overdue),
                ]
                for r in data.open_at_end
            ],
            _rest_last(28 * mm, 52 * mm, 38 * mm, 16 * mm, DATE_COLUMN, 34 * mm, DATE_COLUMN),
            align_right=(7,),
        )
    else:
        story.append(para("Không có: mọi yêu cầu đã gửi đều có quyết định trước khi kết thúc kỳ.", "small"))
    return story


def _hours(value):
    """A duration given in hours, as a person reads it in the report's language: "18 phút", "3 ngày 4 giờ"."""
    if value is None:
        return "—"
    with translation.override("vi"):
        return duration_text(value * 3600)


REGISTER_HEADER = [
    "Số yêu cầu, ngày cung cấp",
    "Cơ quan nhận",
    "Căn cứ, số vụ việc",
    "Người phê duyệt",
    "Người trích xuất, người nhận",
    "Tệp video (camera, thời gian ghi hình) và SHA-256",
    "Lượt tải",
]
# The file column takes what is left: a SHA-256 line in 6 pt monospace needs about 84 mm.
REGISTER_WIDTHS = [25 * mm, 34 * mm, 36 * mm, 38 * mm, 38 * mm]
REGISTER_WIDTHS += [CONTENT_WIDTH - sum(REGISTER_WIDTHS) - 11 * mm, 11 * mm]
FILE_LINE, HASH_LINE = (REGULAR, 6.0), (MONO, 6.0)


def _span(code, start, end, *, seconds=False):
    """A camera and a window: "HB-001 01/11 08:00–10:00 (UTC+7)", with seconds when asked."""
    if start is None or end is None:
        return code or ""
    start, end = local(start), local(end)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    until = local_time(end, clock if start.date() == end.date() else f"%d/%m {clock}")
    return f"{code} {start.strftime(f'%d/%m {clock}')}–{until}"


def _windows_need_seconds(*lists):
    """Whether windows must show seconds: one of them starts or ends inside a minute (lists may be None)."""
    return any(start.second or end.second for windows in lists for _code, start, end in windows or ())


def _handled_by(row):
    """Who exported the footage and who was given a download link, one labelled line each."""
    lines = [f"Trích xuất: {row.custodian or '—'}"]
    lines += [f"Nhận: {recipient}" for recipient in row.recipients] or ["Nhận: chưa cấp liên kết tải"]
    return "\n".join(lines)


def register_cells(row):
    """The register's cells; each video file takes two lines: its name and span, then its SHA-256."""
    files = []
    for name, sha256 in row.videos:
        files.append((f"{name} · {_span(*row.spans.get(name, ('', None, None)))}", *FILE_LINE))
        files.append((sha256, *HASH_LINE))
    extracted = {code for code, _first, _last in row.spans.values()}
    for code, start, end in row.windows:
        if code not in extracted:
            files.append((f"{_span(code, start, end)} — không có tệp (khoảng trống)", *FILE_LINE))
    return [
        f"{row.reference}\n{when(row.released_at)}",
        row.agency,
        f"{row.legal_basis}\n{row.case_reference}" if row.case_reference else row.legal_basis,
        "\n".join(row.approvers) or "—",
        _handled_by(row),
        Lines(files or [("—", *FILE_LINE)]),
        number(row.downloads),
    ]


def _register_section(data, progress):
    story = [
        PageBreak(),
        para("3. Sổ theo dõi cung cấp dữ liệu", "h1"),
        para(
            f"{number(data.register_size)} lần cung cấp dữ liệu trong kỳ, theo thứ tự thời gian. Mỗi tệp video kèm giá trị "
            "băm SHA-256 ghi trong danh mục (manifest) của gói dữ liệu; người phê duyệt là những người đã ký đúng nội dung "
            "được cung cấp; người nhận là những người được cấp liên kết tải trước khi kết thúc kỳ, và lượt tải tính các lần "
            "tải đến hết kỳ. Giá trị băm của gói dữ liệu, danh mục và biên bản giao nhận có trong bảng "
            "10_so_theo_doi_tep.csv đi kèm và trong hồ sơ của từng yêu cầu.",
            "small",
        ),
        Spacer(1, 2 * mm),
    ]
    total = max(data.register_size, 1)

    def rows():
        for n, row in enumerate(data.register_rows(), start=1):
            if progress and n % 1000 == 0:
                progress(25 + int(45 * n / total), "register")
            yield register_cells(row)

    # Streamed: the register's rows are read and set page by page, never all held at once.
    story += streamed_table(REGISTER_HEADER, rows(), REGISTER_WIDTHS, size=6.5, align_right=(6,))
    if not data.register_size:
        story.append(para("Không có lần cung cấp dữ liệu nào trong kỳ.", "small"))
    return story


def _refusal_section(data):
    story = [CondPageBreak(40 * mm), para("6. Các trường hợp từ chối", "h1")]
    if not data.refusals:
        return [*story, para("Không có yêu cầu nào bị từ chối trong kỳ.", "small")]
    return story + table(
        ["Số yêu cầu", "Ngày", "Cơ quan đề nghị", "Căn cứ", "Người từ chối", "Lý do"],
        [
            [r.reference, when(r.decided_at), r.agency, r.legal_basis, f"{r.official}\n{r.official_agency}", r.reason]
            for r in data.refusals
        ],
        _rest_last(28 * mm, DATE_COLUMN, 46 * mm, 38 * mm, 45 * mm),
    )


# Downloads: what the ledger's download events say, in words. The refusal reasons are the download check's codes.
DOWNLOAD_RESULT_VI = {
    Action.RELEASE_DOWNLOAD: "Đã tải",
    Action.RELEASE_DOWNLOAD_REFUSED: "Bị từ chối",
    Action.RELEASE_LINK_EXPIRED: "Bị từ chối: liên kết hết hạn",
}


def _download_reason_and_file(row):
    """Why a download was refused (or "—") and the file it took (or "—"): the ledger gives one or the other."""
    if row.refused:
        return row.detail or "—", "—"
    return "—", row.detail or "—"


def _download_section(data):
    rows = data.downloads
    refused = sum(1 for r in rows if r.refused)
    story = [
        CondPageBreak(40 * mm),
        para("4. Tải dữ liệu và lượt tải bị từ chối", "h1"),
        para(
            "Mỗi lần tải dữ liệu đã cung cấp trong kỳ và mỗi lần bị từ chối (liên kết hết hạn, bị thu hồi, cấp cho người "
            "khác, hết lượt tải…), theo nhật ký hệ thống"
            + (f": {number(len(rows) - refused)} lượt tải, {number(refused)} lượt bị từ chối." if rows else "."),
            "small",
        ),
    ]
    if not rows:
        return [*story, para("Không có lượt tải hoặc lượt tải bị từ chối nào trong kỳ.", "small")]
    # One row per download, as many as the releases: set page by page like the register.
    return story + streamed_table(
        ["Thời điểm", "Số yêu cầu", "Người tải", "Cơ quan", "Kết quả", "Lý do từ chối", "Tệp"],
        (
            [
                when(r.at, seconds=True),
                r.reference or "—",
                r.who,
                r.agency or "—",
                DOWNLOAD_RESULT_VI.get(r.action, r.label),
                *_download_reason_and_file(r),
            ]
            for r in rows
        ),
        _rest_last(SECONDS_COLUMN, 28 * mm, 48 * mm, 26 * mm, 36 * mm, 50 * mm),
    )


def _hold_section(data):
    story = [
        CondPageBreak(40 * mm),
        para("5. Bảo toàn dữ liệu", "h1"),
        para(
            "Bảo toàn dữ liệu giữ lại đoạn ghi hình và gói dữ liệu của một yêu cầu quá thời hạn lưu trữ thông thường. "
            "Gồm các lần áp dụng hoặc chấm dứt trong kỳ và các lần bảo toàn còn hiệu lực khi kết thúc kỳ. “Đang sao lưu”: "
            "việc sao chép đoạn ghi hình vào khu bảo toàn chưa xong khi kết thúc kỳ.",
            "small",
        ),
    ]
    if not data.holds:
        return [*story, para("Không có lần bảo toàn dữ liệu nào được áp dụng, chấm dứt hoặc còn hiệu lực trong kỳ.", "small")]
    return story + table(
        [
            "Số yêu cầu",
            "Cơ quan đề nghị",
            "Áp dụng lúc",
            "Người áp dụng",
            "Số đoạn bảo toàn",
            "Chấm dứt lúc, người chấm dứt",
            "Lý do",
        ],
        [
            [
                r.reference,
                r.agency,
                when(r.placed_at),
                r.placed_by,
                "đang sao lưu" if r.segments_held is None else number(r.segments_held),
                f"{when(r.lifted_at)}\n{r.lifted_by}" if r.lifted_at else "Còn hiệu lực khi kết thúc kỳ",
                r.reason or "—",
            ]
            for r in data.holds
        ],
        _rest_last(28 * mm, 40 * mm, DATE_COLUMN, 44 * mm, 18 * mm, 46 * mm),
        align_right=(4,),
    )


def _ended_section(data):
    story = [
        CondPageBreak(40 * mm),
        para("7. Yêu cầu rút lại và hết hạn", "h1"),
        para(
            "Yêu cầu đã gửi được bên đề nghị rút lại trong kỳ, và yêu cầu hết hạn trong kỳ vì bên đề nghị không bổ sung thông "
            f"tin trong {settings.REQUEST_INFO_EXPIRY_DAYS} ngày (hệ thống tự đóng).",
            "small",
        ),
    ]
    if not data.ended:
        return [*story, para("Không có yêu cầu nào bị rút lại hoặc hết hạn trong kỳ.", "small")]
    return story + table(
        ["Số yêu cầu", "Cơ quan đề nghị", "Căn cứ", "Kết quả", "Gửi lần đầu\nKết thúc lúc", "Người thực hiện", "Lý do"],
        [
            [
                r.reference,
                r.agency,
                r.legal_basis,
                r.outcome,
                f"{when(r.first_filed_at)}\n{when(r.ended_at)}",
                r.by,
                r.reason or "—",
            ]
            for r in data.ended
        ],
        _rest_last(28 * mm, 40 * mm, 38 * mm, 30 * mm, DATE_COLUMN, 44 * mm),
    )


def _scope_cells(requested, approved):
    """The scope as filed, each window marked when the approval dropped its camera or shortened it, and as approved."""
    seconds = _windows_need_seconds(requested, approved)
    granted = "không được ghi lại" if approved is None else _plain_windows(approved, seconds)
    if requested is None or approved is None:
        return ("không được ghi lại" if requested is None else _plain_windows(requested, seconds)), granted
    kept, cameras = set(approved), {code for code, _start, _end in approved}
    lines = []
    for code, start, end in requested:
        mark = "" if (code, start, end) in kept else (" (rút ngắn)" if code in cameras else " (bỏ)")
        lines.append(_span(code, start, end, seconds=seconds) + mark)
    return "\n".join(lines) or "—", granted


def _plain_windows(windows, seconds):
    return "\n".join(_span(*window, seconds=seconds) for window in windows) or "—"


def _narrowed_section(data):
    story = [
        CondPageBreak(40 * mm),
        para("8. Yêu cầu được phê duyệt với phạm vi thu hẹp", "h1"),
        para(
            "Khi phê duyệt, người phê duyệt có thể bỏ bớt camera hoặc rút ngắn khoảng thời gian, không được mở rộng. Phạm vi "
            "đề nghị là phạm vi của lần gửi gần nhất trước khi kết thúc kỳ; “(rút ngắn)” và “(bỏ)” đánh dấu phần đã thay đổi.",
            "small",
        ),
    ]
    if not data.narrowed:
        return [*story, para("Không có yêu cầu nào được phê duyệt với phạm vi thu hẹp trong kỳ.", "small")]
    return story + table(
        ["Số yêu cầu", "Cơ quan đề nghị", "Thu hẹp lúc", "Người phê duyệt", "Phạm vi đề nghị", "Phạm vi được phê duyệt"],
        [
            [
                r.reference,
                r.agency,
                when(r.narrowed_at),
                r.by,
                *_scope_cells(r.requested, r.approved),
            ]
            for r in data.narrowed
        ],
        _rest_last(28 * mm, 38 * mm, DATE_COLUMN, 44 * mm, (CONTENT_WIDTH - 146 * mm) / 2),
    )


def _activity_section(data):
    rows = [r for r in data.activity if r.action not in DOWNLOAD_RESULT_VI]
    story = [
        CondPageBreak(40 * mm),
        para("10. Hoạt động của cán bộ trên các yêu cầu", "h1"),
        para(
            "Ai đã làm gì với các yêu cầu thuộc phạm vi báo cáo trong kỳ, theo nhật ký hệ thống, cộng theo từng người: gửi, "
            "thẩm định, hỏi thêm thông tin, phê duyệt, từ chối, trích xuất và cung cấp, cấp và thu hồi liên kết tải, bảo toàn dữ liệu; "
            "“Khác” gồm rút lại, hết hạn, xóa gói dữ liệu và xác nhận đã nhận. Các lượt tải ở mục 4; người phê duyệt từng lần "
            "cung cấp ở mục 3. Cơ quan là cơ quan của người thực hiện lúc thao tác. Danh sách đầy đủ "
            f"{number(len(data.activity))} sự kiện (thời điểm, số yêu cầu, hành động, chi tiết, số sự kiện trong nhật ký) ở "
            "bảng 11e_hoat_dong.csv của báo cáo dạng CSV cùng kỳ.",
            "small",
        ),
    ]
    if not rows:
        return [*story, para("Không có hoạt động nào trên các yêu cầu thuộc phạm vi báo cáo trong kỳ.", "small")]
    kinds = [kind for kind in KIND_ORDER if kind not in ("Tải", "Bị từ chối tải")]
    people = activity_by_person(rows)
    return story + table(
        ["Người thực hiện", "Cơ quan", *kinds, "Lần đầu – lần cuối"],
        [
            [
                p.who,
                p.agency or "—",
                *(number(p.counts[kind]) if p.counts[kind] else "" for kind in kinds),
                f"{when(p.first_at)}\n{when(p.last_at)}",
            ]
            for p in people
        ],
        _rest_last(58 * mm, 24 * mm, *([15 * mm] * len(kinds))),
        align_right=tuple(range(2, 2 + len(kinds))),
    )


def _pattern_section(data):
    start, end = settings.WORKING_HOURS
    notes = {
        "volume": f"So với trung bình {settings.REPORT_BASELINE_PERIODS} kỳ liền trước cùng độ dài; "
        f"nêu khi vượt {decimal(settings.REPORT_VOLUME_FACTOR)} lần và từ {settings.REPORT_VOLUME_MIN} yêu cầu.",
        "after_hours": f"Ngoài {start}:00–{end}:00 của ngày làm việc: thứ Hai đến thứ Sáu, trừ ngày lễ, Tết "
        "và ngày nghỉ riêng của trung tâm.",
        "one_approver": f"Một người ký trên {decimal(settings.REPORT_APPROVER_SHARE * 100, 0)}% số yêu cầu được phê duyệt "
        f"của cơ quan (từ {settings.REPORT_APPROVER_MIN} yêu cầu).",
        "paperwork": f"Gửi theo thủ tục khẩn, quá {settings.EMERGENCY_PAPERWORK_HOURS} giờ chưa có công văn.",
        "near_limit": f"Dùng từ {decimal(settings.REPORT_NEAR_LIMIT * 100, 0)}% giới hạn thời lượng hoặc số camera của căn cứ.",
    }
    story = [CondPageBreak(40 * mm), para("9. Dấu hiệu cần xem xét", "h1")]
    for number_, (kind, title) in enumerate(PATTERN_TITLES.items(), start=1):
        findings = data.patterns[kind]
        story += [para(f"9.{number_}. {title} ({number(len(findings))})", "h2"), para(notes[kind], "small")]
        if findings:
            story += table(
                ["Đối tượng", "Số yêu cầu", "Chi tiết"],
                [[f.subject, f.reference or "—", f.detail] for f in findings],
                [70 * mm, 32 * mm, CONTENT_WIDTH - 102 * mm],
            )
        else:
            story.append(para("Không phát hiện.", "small"))
    return story


def signing_key_line(signing_key):
    """A ledger signing key as printed on documents: its fingerprint, key id and validity."""
    validity = f"hiệu lực từ {when(signing_key.valid_from)}"
    if signing_key.retired_at:
        validity += f", thu hồi lúc {when(signing_key.retired_at)}"
    return f"{signing_key.display_fingerprint}\n(mã khóa {signing_key.key_id}; {validity})"


def signing_key_pairs(current_key, signing_keys, covered):
    """Label-value rows naming the key that signs the ledger now and the keys whose checkpoints fix `covered`."""
    current = signing_key_line(current_key) if current_key else "Chưa có khóa ký nào được đăng ký."
    signers = "\n".join(signing_key_line(k) for k in signing_keys) or "Chưa có điểm kiểm chứng đã ký nào cố định các sự kiện này."
    return [
        ("Dấu vân tay khóa ký nhật ký đang dùng (SHA-256 của khóa công khai Ed25519)", current),
        (f"Khóa đã ký các điểm kiểm chứng cố định {covered}", signers),
    ]


def _integrity_section(data):
    i = data.integrity
    if i.ok is None:
        result = "Không có sự kiện nào trong kỳ."
    elif i.ok:
        result = f"Toàn vẹn: {number(i.events)} sự kiện đã được tính lại giá trị băm và kiểm tra liên kết ({decimal(i.seconds, 2)} giây)."
    else:
        result = f"PHÁT HIỆN SAI LỆCH: {i.problem}"
    if i.ok is None:
        checked = "Không có sự kiện nào của hệ thống trong kỳ."
    elif i.whole_system:
        checked = f"Toàn bộ {number(i.events)} sự kiện của hệ thống trong kỳ (báo cáo này có phạm vi toàn hệ thống)."
    else:
        checked = (
            f"Phần kiểm tra này bao gồm toàn bộ {number(i.events)} sự kiện của hệ thống trong kỳ (mọi cơ quan), vì nhật ký "
            f"là một chuỗi băm duy nhất; {number(i.scoped_events)} sự kiện trong số đó thuộc phạm vi báo cáo."
        )
    uncovered = i.ok is not None and i.covering_checkpoint is None
    if i.covering_checkpoint:
        covering = _checkpoint_text(i.covering_checkpoint)
    else:
        covering = "Chưa có (xem cảnh báo ở trên)." if uncovered else "—"
    run = i.last_full_run
    full = (
        f"{'Toàn vẹn' if run.status == 'passed' else 'Phát hiện sai lệch'} — {number(run.events_checked)} sự kiện, "
        f"lúc {when(run.finished_at)}"
        if run
        else "Chưa có lần kiểm tra toàn bộ nào."
    )
    pairs = [
        ("Phạm vi kiểm tra", checked),
        ("Kết quả kiểm tra các sự kiện của kỳ", result),
        ("Sự kiện đầu tiên của kỳ", f"số {number(i.first_seq)}\n{i.first_hash}" if i.first_seq else "—"),
        ("Sự kiện cuối cùng của kỳ", f"số {number(i.last_seq)}\n{i.last_hash}" if i.last_seq else "—"),
        ("Điểm kiểm chứng có chữ ký bao trùm kỳ (điểm đầu tiên từ sự kiện cuối của kỳ trở đi)", covering),
        (
            "Điểm kiểm chứng đã ký gần nhất (Ed25519)",
            _checkpoint_text(i.checkpoint) if i.checkpoint else "Chưa có điểm kiểm chứng nào được ký.",
        ),
        ("Lần kiểm tra toàn bộ nhật ký gần nhất", full),
        *signing_key_pairs(i.current_key, i.signing_keys, "các sự kiện của kỳ"),
    ]
    how = (
        "Cách tự kiểm tra, không cần hệ thống: trên trang “Kiểm chứng nhật ký kiểm toán” của hệ thống, mục “Tải gói "
        "kiểm chứng ngoại tuyến”, chọn kỳ rồi bấm nút để tải gói kiểm chứng (một tệp ZIP gồm nhật ký của kỳ, các điểm "
        "kiểm tra đã ký, sổ khóa và chương trình verifier.py; mỗi lần tải được ghi vào nhật ký). Người có quyền truy "
        "cập máy chủ cũng có thể xuất gói bằng lệnh “python manage.py audit_export --from NGÀY --to NGÀY --out "
        "THƯ_MỤC” (ngày viết dạng năm-tháng-ngày, ví dụ 2026-11-30). Giải nén tệp ZIP (gói xuất bằng lệnh đã là một "
        "thư mục) rồi chạy “python THƯ_MỤC/verifier.py THƯ_MỤC --trusted-key DẤU_VÂN_TAY” trên bất kỳ máy nào có "
        "Python 3, với dấu vân tay khóa ký nêu trên. Chương trình tính lại giá trị băm "
        "của từng sự kiện, kiểm tra liên kết giữa các sự kiện và chữ ký của các điểm kiểm chứng, chỉ chấp nhận điểm kiểm chứng "
        "do khóa có dấu vân tay đã cho ký, và chỉ ra sự kiện đầu tiên bị sai lệch nếu có. Giá trị băm "
        "của sự kiện đầu và cuối kỳ ở trên phải trùng với giá trị trong tệp events.jsonl. Giá trị băm SHA-256 của chính "
        "báo cáo này được ghi vào nhật ký khi báo cáo được lập."
    )
    story = [CondPageBreak(60 * mm), para("11. Tính toàn vẹn của nhật ký hệ thống", "h1")]
    if uncovered:
        latest = f"; điểm kiểm chứng đã ký gần nhất dừng ở sự kiện số {number(i.checkpoint.seq)}" if i.checkpoint else ""
        story.append(
            para(
                "CẢNH BÁO: chưa có điểm kiểm chứng có chữ ký nào bao trùm các sự kiện của kỳ này (sự kiện cuối của kỳ là số "
                f"{number(i.last_seq)}{latest}). Cho đến khi có, các sự kiện của kỳ chỉ được chứng minh bằng chuỗi băm trong "
                "chính cơ sở dữ liệu này: người có quyền ghi vào cơ sở dữ liệu có thể sửa sự kiện rồi tính lại cả chuỗi mà "
                "phép kiểm tra dưới đây không phát hiện được. Hãy kiểm tra lại báo cáo này sau khi có điểm kiểm chứng có chữ ký "
                "tiếp theo: lập lại báo cáo cho cùng kỳ, hoặc chạy verifier.py trên bản nhật ký xuất ra sau thời điểm đó.",
                "warning",
            )
        )
    return [*story, key_values(pairs, (70 * mm, 180 * mm)), Spacer(1, 3 * mm), para(how, "small")]


def _checkpoint_text(checkpoint):
    return (
        f"sự kiện số {number(checkpoint.seq)}, ký lúc {when(checkpoint.signed_at, seconds=True)} (khóa {checkpoint.key_id})\n"
        f"giá trị băm {checkpoint.hash}\n"
        f"dấu vân tay khóa ký {checkpoint.display_fingerprint or 'không đọc được'}"
    )


REPORT_RECIPIENTS = ("Cơ quan có thẩm quyền giám sát (để báo cáo)", "Lưu: hệ thống, hồ sơ báo cáo")


def render_period_report(data, out, *, code, author, progress=None, heading=None, signer=""):
    """Write the period report to the binary file `out`; returns the number of pages.

    `heading` is the issued report's number, issuer and date (`documents.numbering.document_heading`); `signer` the
    name of the person who ordered it."""
    register_fonts()
    heading = heading or draft_heading(code)
    meta = {"code": code, "author": author}
    title = "Báo cáo tình hình cung cấp, khai thác dữ liệu camera"
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=13 * mm,
        bottomMargin=13 * mm,
        title=nfc(f"{title} {code}"),
        author=nfc(author),
        subject=nfc(f"{day(data.scope.date_from)}–{day(data.scope.date_to)}"),
    )
    story = [
        header_of(heading, width=CONTENT_WIDTH, size=9.5),
        Spacer(1, 5 * mm),
        para(title.upper(), "title"),
        para(f"Kỳ báo cáo từ ngày {day(data.scope.date_from)} đến ngày {day(data.scope.date_to)}", "subtitle"),
        Spacer(1, 4 * mm),
        key_values(_scope_lines(data, meta), (50 * mm, 160 * mm)),
    ]
    story += _charts_section(data)
    story += _summary_section(data)
    # The turnaround figures (a heading and eight rows) are read as one table: never split across pages.
    story += [CondPageBreak(75 * mm), *_turnaround_section(data)]
    story += _register_section(data, progress)
    story += _download_section(data)
    story += _hold_section(data)
    story += _refusal_section(data)
    story += _ended_section(data)
    story += _narrowed_section(data)
    story += _pattern_section(data)
    story += _activity_section(data)
    story += _integrity_section(data)
    story.append(signature_block("Người lập báo cáo", signer, recipients=REPORT_RECIPIENTS, width=CONTENT_WIDTH, size=9.5))
    # A running line from the second page on: the first opens with the national header.
    header = page_header(f"{title} — số {heading.number}")
    footer = f"Báo cáo số {heading.number} · mã {code} · lập lúc {when(data.generated_at, seconds=True)}"
    doc.build(story, onLaterPages=header, canvasmaker=canvas_with_footer(footer))
    return doc.page


# The request dossier --------------------------------------------------------------------------------

SCOPE_NOW_TITLES = {
    "approved": "Phạm vi được phê duyệt",
    "narrowed": "Phạm vi sau khi thu hẹp",
    "changed": "Phạm vi đang sửa, chưa gửi lại",
}


def _name_and_account(user):
    return f"{user.display_name} ({user.username})" if user else "—"


def _latest_filing(scope, footage_request):
    latest = scope.latest
    sent = when(footage_request.submitted_at)
    if latest is not None and latest.number > 1:
        sent = f"{sent} (lần gửi thứ {number(latest.number)})"
    return f"{sent} / {when(footage_request.due_at)}"


def _filings_section(scope, width):
    story = [para("2. Các lần gửi", "h1")]
    if not scope.submissions:
        return [*story, para("Yêu cầu chưa được gửi.", "small")]
    return story + table(
        ["Lần", "Thời điểm gửi", "Người gửi", "Hạn xử lý", "Nội dung đã gửi (SHA-256)", "Phạm vi"],
        [
            [
                number(s.number),
                when(s.submitted_at),
                _name_and_account(s.submitted_by),
                when(s.due_at),
                s.content_hash or "—",
                f"{number(len(s.items.all()))} hạng mục" if s.items_recorded else "phạm vi không được ghi lại",
            ]
            for s in scope.submissions
        ],
        # Times as wide as "03/12/2026 08:00 (UTC+7)", a name with its account on one line; the hash wraps.
        [9 * mm, 36 * mm, 38 * mm, 36 * mm, width - 137 * mm, 18 * mm],
        fonts={4: MONO},
        align_right=(0,),
    )


def _items_table(items, width):
    return table(
        ["Camera", "Tên", "Từ", "Đến", "Loại dữ liệu"],
        [[i.camera.code, i.camera.name, when(i.start), when(i.end), i.data_category.name_vi] for i in items],
        [24 * mm, 40 * mm, 36 * mm, 36 * mm, width - 136 * mm],
    )


def _scope_section(dossier, width):
    """The camera windows: as last filed and, where an approver narrowed them (or they changed since), as they are now."""
    scope = dossier.scope
    story = [para("3. Camera và khoảng thời gian", "h1")]
    latest = scope.latest
    if not scope.differs:
        if latest is not None:
            story.append(para(f"Phạm vi đề nghị như lần gửi thứ {number(latest.number)}; không bị thu hẹp.", "small"))
        return story + _items_table(dossier.items, width)
    requested = scope.requested
    story.append(para(f"3.1. Phạm vi đề nghị (lần gửi thứ {number(latest.number)})" if latest else "3.1. Phạm vi đề nghị", "h2"))
    if requested is None:
        story.append(para("Phạm vi không được ghi lại cho lần gửi này.", "small"))
    else:
        story += _items_table(requested, width)
    story.append(para(f"3.2. {SCOPE_NOW_TITLES[scope.current_kind]}", "h2"))
    for d in scope.narrowings:
        story.append(
            para(
                f"Thu hẹp bởi {_name_and_account(d.actor)} — {d.actor_agency.name_vi}, lúc {when(d.created_at)}. "
                f"Nội dung trước khi thu hẹp (SHA-256) {d.narrowed_from}; sau khi thu hẹp {d.content_hash}.",
                "small",
            )
        )
    return story + _items_table(dossier.items, width)


def render_dossier(dossier, out, *, code, author, heading=None, signer=""):
    """Write one request's dossier (an oversight.reports.Dossier) to the binary file `out`; returns the number of pages.

    `heading` is the issued dossier's number, issuer and date; `signer` the name of the person who ordered it."""
    register_fonts()
    heading = heading or draft_heading(code)
    width = A4[0] - 30 * mm - 12  # margins, and the frame's padding
    footage_request = dossier.footage_request
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=nfc(f"Hồ sơ yêu cầu {footage_request.reference}"),
        author=nfc(author),
    )
    basis = footage_request.legal_basis
    story = [
        header_of(heading, width=width, size=9.5),
        Spacer(1, 5 * mm),
        para(f"HỒ SƠ YÊU CẦU CUNG CẤP DỮ LIỆU CAMERA {footage_request.reference}", "title"),
        para(f"Lập lúc {when(dossier.generated_at, seconds=True)} — mã {code}", "subtitle"),
        Spacer(1, 4 * mm),
        para("1. Yêu cầu", "h1"),
        key_values(
            [
                ("Số yêu cầu", footage_request.reference),
                ("Trạng thái", dossier.status_label),
                ("Cơ quan đề nghị", footage_request.agency.name_vi),
                ("Cán bộ đề nghị", footage_request.requester.display_name),
                ("Căn cứ pháp lý", f"{basis.code} — {basis.title_vi}\n{basis.citation}"),
                ("Công văn", f"số {footage_request.letter_number} ngày {day(footage_request.letter_date)}"),
                ("Số vụ việc / tin báo", footage_request.case_reference or "—"),
                ("Mục đích", footage_request.purpose),
                ("Mức độ", dossier.urgency_label),
                ("Quy chế áp dụng", dossier.regulation_label),
                ("Gửi lần đầu", when(footage_request.first_submitted_at)),
                ("Lần gửi gần nhất / hạn xử lý", _latest_filing(dossier.scope, footage_request)),
                ("Quyết định lúc", when(footage_request.decided_at)),
                ("Giá trị băm nội dung (SHA-256)", footage_request.content_hash or "—"),
            ],
            (50 * mm, width - 50 * mm),
        ),
    ]
    story += _filings_section(dossier.scope, width)
    story += _scope_section(dossier, width)
    story.append(para("4. Tài liệu kèm theo", "h1"))
    story += table(
        ["Loại", "Tên tệp", "Tải lên", "SHA-256"],
        [
            [a.kind_label, a.original_name, f"{when(a.uploaded_at)}\n{a.uploaded_by.display_name}", a.sha256]
            for a in dossier.attachments
        ],
        [32 * mm, 38 * mm, 32 * mm, width - 102 * mm],
        fonts={3: MONO},
    )
    story.append(para("5. Các quyết định", "h1"))
    story += table(
        ["Thời điểm", "Bước", "Người quyết định", "Kết quả", "Lý do", "Nội dung đã xét (SHA-256)"],
        [
            [
                when(d.created_at),
                d.step_label,
                f"{_name_and_account(d.actor)}\n{d.actor_agency.name_vi}",
                f"{d.outcome_label}\n(thu hẹp phạm vi)" if d.narrowed_from else d.outcome_label,
                d.reason or "—",
                f"{d.content_hash}\ntrước khi thu hẹp:\n{d.narrowed_from}" if d.narrowed_from else d.content_hash,
            ]
            for d in dossier.decisions
        ],
        [24 * mm, 18 * mm, 34 * mm, 24 * mm, 32 * mm, width - 132 * mm],
        fonts={5: MONO},
    )
    # Sections 1 to 5 are always there; the exchange is not, and the sections after it are numbered on from the last.
    section = 5
    if dossier.comments:
        section += 1
        story.append(para(f"{section}. Trao đổi", "h1"))
        story += table(
            ["Thời điểm", "Người viết", "Nội dung"],
            [[when(c.created_at), c.author.display_name, c.body] for c in dossier.comments],
            [26 * mm, 40 * mm, width - 66 * mm],
        )
    section += 1
    story.append(para(f"{section}. Dữ liệu đã cung cấp", "h1"))
    release = dossier.release
    # A package held for damaged footage was exported, not released: nobody could download it yet.
    held = release is not None and dossier.footage_request.status == "damage_held"
    if release is None:
        story.append(para("Chưa cung cấp dữ liệu.", "small"))
    else:
        if held:
            story.append(
                para(
                    "Gói dữ liệu đã được trích xuất nhưng đang bị giữ lại, chưa cung cấp cho bên đề nghị: kiểm tra giải mã "
                    "phát hiện đoạn ghi hình bị lỗi hoặc bị thiếu, và chưa có cán bộ vận hành xác nhận.",
                    "small",
                )
            )
        story.append(
            key_values(
                [
                    ("Trích xuất lúc" if held else "Cung cấp lúc", when(release.created_at)),
                    ("Gói dữ liệu (SHA-256)", release.package_sha256),
                    ("Danh mục manifest.json (SHA-256)", release.manifest_sha256),
                    ("Biên bản giao nhận (SHA-256)", release.handover_sha256),
                    ("Khoảng trống trong dữ liệu", number(release.gaps)),
                    ("Tệp có đoạn ghi hình bị lỗi (kiểm tra giải mã)", number(release.damaged_files)),
                    *(
                        [
                            (
                                "Cán bộ vận hành xác nhận lỗi",
                                f"{release.damage_acknowledged_by.display_name}, {when(release.damage_acknowledged_at)}"
                                + (f"\n{release.damage_acknowledgement}" if release.damage_acknowledgement else ""),
                            )
                        ]
                        if release.damage_acknowledged_at
                        else []
                    ),
                    ("Đã xóa gói lúc", when(release.purged_at) if release.purged_at else "—"),
                ],
                (50 * mm, width - 50 * mm),
            )
        )
        story += table(
            ["Tệp", "Camera", "Từ — đến", "SHA-256"],
            [
                [f.name, f.camera_code or "—", f"{when(f.first_timestamp)}\n{when(f.last_timestamp)}", f.sha256]
                for f in dossier.files
            ],
            [40 * mm, 24 * mm, 30 * mm, width - 94 * mm],
            fonts={3: MONO},
        )
        if dossier.integrity:
            story.append(para("Kết quả kiểm tra giải mã", "h2"))
            for name, lines in dossier.integrity:
                story.append(para(f"{name}: {lines[0]}", "small"))
                story += [para(f"– {line}", "small") for line in lines[1:]]
            story += [para(line, "small") for line in dossier.integrity_scope]
    section += 1
    story += [PageBreak(), para(f"{section}. Nhật ký hệ thống của yêu cầu", "h1")]
    story += table(
        ["Số", "Thời điểm", "Người thực hiện", "Hành động", "Kết quả", "Giá trị băm"],
        [
            [
                number(e.seq),
                when(e.occurred_at, seconds=True),
                f"{e.actor_username or 'hệ thống'}\n{e.actor_agency}",
                e.action_label,
                e.outcome_label,
                e.hash,
            ]
            for e in dossier.events
        ],
        [12 * mm, 21 * mm, 27 * mm, 34 * mm, 16 * mm, width - 110 * mm],
        fonts={5: (MONO, 5.2)},
        align_right=(0,),
    )
    story += [
        Spacer(1, 3 * mm),
        key_values(signing_key_pairs(dossier.current_key, dossier.signing_keys, "các sự kiện trên"), (50 * mm, width - 50 * mm)),
        para(
            "Đối chiếu: chạy verifier.py trên gói nhật ký xuất ra với --trusted-key và dấu vân tay khóa ký nêu trên. "
            "Giá trị băm SHA-256 của hồ sơ này được ghi vào nhật ký khi hồ sơ được lập.",
            "small",
        ),
    ]
    story.append(
        signature_block(
            "Người lập hồ sơ",
            signer,
            recipients=(f"Hồ sơ yêu cầu {footage_request.reference}", "Lưu: hệ thống"),
            width=width,
            size=9.5,
        )
    )
    # A running line from the second page on: the first opens with the national header.
    header = page_header(f"Hồ sơ yêu cầu {footage_request.reference} — số {heading.number}")
    footer = f"Hồ sơ số {heading.number} · mã {code} · lập lúc {when(dossier.generated_at, seconds=True)}"
    doc.build(story, onLaterPages=header, canvasmaker=canvas_with_footer(footer))
    return doc.page
