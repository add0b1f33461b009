"""The oversight report and the request dossier as PDF, always in Vietnamese, set with the documents kit."""

from django.conf import settings
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from documents.pdf import (
    BOLD,
    MONO,
    REGULAR,
    RULE,
    Lines,
    canvas_with_footer,
    day,
    decimal,
    key_values,
    nfc,
    number,
    page_header,
    para,
    register_fonts,
    table,
    when,
)
from governance.timefmt import local, local_time
from oversight.report_data import PATTERN_TITLES, WEEK_SERIES

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
    drawing.add(String(0, height - 8, nfc("Số yêu cầu gửi mỗi tuần, theo kết quả hiện tại"), fontName=BOLD, fontSize=8))
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


def agency_chart(breakdowns, width=104 * mm, height=62 * mm, top=10):
    drawing = _drawing(width, height)
    drawing.add(String(0, height - 8, nfc(f"{top} cơ quan gửi nhiều yêu cầu nhất"), fontName=BOLD, fontSize=8))
    rows = [b for b in breakdowns if b.counts["filed"]][:top]
    # Always `top` slots, so one busy agency gets a bar, not a block.
    rows = (rows + [None] * (top - len(rows)))[::-1]
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 120, 14, width - 132, height - 30
    chart.data = [[b.counts["filed"] if b else 0 for b in rows]]
    chart.categoryAxis.categoryNames = [nfc(b.label if len(b.label) <= 30 else b.label[:29] + "…") if b else "" for b in rows]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda value: number(int(value)) if value == int(value) else ""
    chart.bars[0].fillColor = SERIES_COLOURS[4]
    chart.bars[0].strokeColor = None
    _font_chart(chart)
    drawing.add(chart)
    return drawing


# The period report --------------------------------------------------------------------------------

PAGE = landscape(A4)
CONTENT_WIDTH = PAGE[0] - 24 * mm - 12  # margins, and the frame's 6 pt padding on each side
OUTCOME_HEADER = ["Gửi", "Phê duyệt", "Từ chối", "Rút lại", "Hết hạn", "Đã cung cấp"]


def _scope_lines(data, meta):
    scope = data.scope
    lines = [
        ("Kỳ báo cáo", f"từ {day(scope.date_from)} đến {day(scope.date_to)} ({number(scope.days)} ngày, giờ Việt Nam)"),
        ("Cơ quan", scope.agency.name_vi if scope.agency else "Tất cả"),
        ("Địa bàn", scope.area.name_vi if scope.area else "Tất cả"),
        ("Căn cứ pháp lý", f"{scope.legal_basis.code} — {scope.legal_basis.title_vi}" if scope.legal_basis else "Tất cả"),
        ("Phạm vi thẩm quyền", scope.jurisdiction.name_vi if scope.jurisdiction else "Toàn hệ thống"),
        ("Mã báo cáo", meta["code"]),
        ("Người lập", meta["author"]),
        ("Thời điểm lập", when(data.generated_at, seconds=True)),
    ]
    return lines


def _breakdown_table(title, rows):
    header = [title, *OUTCOME_HEADER]
    body = [
        [b.label, *(number(b.counts[name]) for name in ("filed", "approved", "rejected", "withdrawn", "expired", "released"))]
        for b in rows
    ]
    widths = [CONTENT_WIDTH - 6 * 24 * mm] + [24 * mm] * 6
    if not body:
        return [para("Không có yêu cầu nào trong kỳ.", "small")]
    return table(header, body, widths, size=7, align_right=range(1, 7))


def _summary_section(data):
    s = data.summary
    figures = [
        ("Yêu cầu gửi trong kỳ", number(s["filed"])),
        ("Được phê duyệt", number(s["approved"])),
        ("Bị từ chối", number(s["rejected"])),
        ("Bị rút lại", number(s["withdrawn"])),
        ("Hết hạn (không bổ sung thông tin)", number(s["expired"])),
        ("Đã cung cấp dữ liệu", number(s["released"])),
        ("Số giờ ghi hình đã cung cấp", decimal(s["footage_hours"], 2)),
        ("Số camera có dữ liệu được cung cấp", number(s["cameras"])),
    ]
    story = [para("1. Tổng hợp", "h1"), key_values(figures, (90 * mm, 60 * mm)), Spacer(1, 4 * mm)]
    charts = Table([[weekly_chart(data.weekly, WEEK_SERIES), agency_chart(data.by_agency)]], colWidths=[162 * mm, 106 * mm])
    charts.setStyle(
        TableStyle(
            [("FONT", (0, 0), (-1, -1), REGULAR, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        )
    )
    story += [charts, Spacer(1, 3 * mm)]
    story += [para("1.1. Theo cơ quan đề nghị", "h2"), *_breakdown_table("Cơ quan", data.by_agency)]
    story += [para("1.2. Theo căn cứ pháp lý", "h2"), *_breakdown_table("Căn cứ pháp lý", data.by_legal_basis)]
    story += [para("1.3. Theo mức độ khẩn", "h2"), *_breakdown_table("Mức độ", data.by_urgency)]
    story.append(para("1.4. Theo loại dữ liệu", "h2"))
    if data.by_category:
        story += table(
            ["Loại dữ liệu", "Yêu cầu gửi có loại này", "Hạng mục đề nghị", "Hạng mục đã cung cấp", "Giờ đã cung cấp"],
            [
                [r.label, number(r.requests_filed), number(r.items_filed), number(r.released_items), decimal(r.released_hours, 2)]
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
        ("Thời gian từ khi gửi đến khi quyết định — trung vị", _hours(t["decision_median"])),
        ("Thời gian từ khi gửi đến khi quyết định — phân vị 90", _hours(t["decision_p90"])),
        ("Số lần cung cấp dữ liệu trong kỳ", number(t["releases"])),
        ("Thời gian từ khi gửi đến khi cung cấp — trung vị", _hours(t["release_median"])),
        ("Thời gian từ khi gửi đến khi cung cấp — phân vị 90", _hours(t["release_p90"])),
        ("Số yêu cầu quá hạn xử lý", number(len(t["late"]))),
    ]
    story = [para("2. Thời gian xử lý", "h1"), key_values(figures, (110 * mm, 60 * mm))]
    story.append(para("2.1. Yêu cầu quá hạn xử lý", "h2"))
    if t["late"]:
        story += table(
            ["Số yêu cầu", "Cơ quan", "Căn cứ", "Mức độ", "Gửi lúc", "Hạn xử lý", "Quyết định lúc", "Quá hạn (giờ)"],
            [
                [
                    r.reference,
                    r.agency,
                    r.legal_basis,
                    r.urgency,
                    when(r.submitted_at),
                    when(r.due_at),
                    when(r.decided_at) if r.decided_at else "Chưa quyết định",
                    decimal(r.hours_late),
                ]
                for r in t["late"]
            ],
            [30 * mm, 62 * mm, 45 * mm, 18 * mm, 28 * mm, 28 * mm, 32 * mm, 22 * mm],
            align_right=(7,),
        )
    else:
        story.append(para("Không có yêu cầu nào quá hạn xử lý trong kỳ.", "small"))
    return story


def _hours(value):
    if value is None:
        return "—"
    if value < 48:
        return f"{decimal(value)} giờ"
    return f"{decimal(value)} giờ ({decimal(value / 24)} ngày)"


REGISTER_HEADER = [
    "Số yêu cầu, ngày cung cấp",
    "Cơ quan nhận",
    "Căn cứ, số vụ việc",
    "Người phê duyệt",
    "Tệp video (camera, thời gian ghi hình) và SHA-256",
    "Lượt tải",
]
REGISTER_WIDTHS = [25 * mm, 42 * mm, 40 * mm, 32 * mm, 118 * mm, 11 * mm]
FILE_LINE, HASH_LINE = (REGULAR, 6.0), (MONO, 6.0)


def _span(code, start, end):
    if start is None or end is None:
        return code or ""
    start, end = local(start), local(end)
    until = local_time(end, "%H:%M" if start.date() == end.date() else "%d/%m %H:%M")
    return f"{code} {start:%d/%m %H:%M}–{until}"


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
            "được cung cấp. Giá trị băm của gói dữ liệu, danh mục và biên bản giao nhận có trong bảng "
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

    story += table(REGISTER_HEADER, rows(), REGISTER_WIDTHS, size=6.5, align_right=(5,))
    if not data.register_size:
        story.append(para("Không có lần cung cấp dữ liệu nào trong kỳ.", "small"))
    return story


def _refusal_section(data):
    story = [CondPageBreak(40 * mm), para("4. Các trường hợp từ chối", "h1")]
    if not data.refusals:
        return [*story, para("Không có yêu cầu nào bị từ chối trong kỳ.", "small")]
    return story + table(
        ["Số yêu cầu", "Ngày", "Cơ quan đề nghị", "Căn cứ", "Người từ chối", "Lý do"],
        [
            [r.reference, when(r.decided_at), r.agency, r.legal_basis, f"{r.official}\n{r.official_agency}", r.reason]
            for r in data.refusals
        ],
        [30 * mm, 28 * mm, 50 * mm, 40 * mm, 45 * mm, CONTENT_WIDTH - 193 * mm],
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
        "paperwork": f"Gửi theo thủ tục khẩn cấp, quá {settings.EMERGENCY_PAPERWORK_HOURS} giờ chưa có công văn.",
        "near_limit": f"Dùng từ {decimal(settings.REPORT_NEAR_LIMIT * 100, 0)}% giới hạn thời lượng hoặc số camera của căn cứ.",
    }
    story = [CondPageBreak(40 * mm), para("5. Dấu hiệu cần xem xét", "h1")]
    for number_, (kind, title) in enumerate(PATTERN_TITLES.items(), start=1):
        findings = data.patterns[kind]
        story += [para(f"5.{number_}. {title} ({number(len(findings))})", "h2"), para(notes[kind], "small")]
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
    signers = "\n".join(signing_key_line(k) for k in signing_keys) or "Chưa có điểm kiểm tra đã ký nào cố định các sự kiện này."
    return [
        ("Dấu vân tay khóa ký nhật ký đang dùng (SHA-256 của khóa công khai Ed25519)", current),
        (f"Khóa đã ký các điểm kiểm tra cố định {covered}", signers),
    ]


def _integrity_section(data):
    i = data.integrity
    if i.ok is None:
        result = "Không có sự kiện nào trong kỳ."
    elif i.ok:
        result = f"Toàn vẹn: {number(i.events)} sự kiện đã được tính lại giá trị băm và kiểm tra liên kết ({decimal(i.seconds, 2)} giây)."
    else:
        result = f"PHÁT HIỆN SAI LỆCH: {i.problem}"
    checkpoint = (
        f"sự kiện số {number(i.checkpoint.seq)}, ký lúc {when(i.checkpoint.signed_at, seconds=True)} (khóa {i.checkpoint.key_id})\n"
        f"giá trị băm {i.checkpoint.hash}\n"
        f"dấu vân tay khóa ký {i.checkpoint.display_fingerprint or 'không đọc được'}"
        if i.checkpoint
        else "Chưa có điểm kiểm tra nào được ký."
    )
    run = i.last_full_run
    full = (
        f"{'Toàn vẹn' if run.status == 'passed' else 'Phát hiện sai lệch'} — {number(run.events_checked)} sự kiện, "
        f"lúc {when(run.finished_at)}"
        if run
        else "Chưa có lần kiểm tra toàn bộ nào."
    )
    pairs = [
        ("Kết quả kiểm tra các sự kiện của kỳ", result),
        ("Sự kiện đầu tiên của kỳ", f"số {number(i.first_seq)}\n{i.first_hash}" if i.first_seq else "—"),
        ("Sự kiện cuối cùng của kỳ", f"số {number(i.last_seq)}\n{i.last_hash}" if i.last_seq else "—"),
        ("Điểm kiểm tra đã ký gần nhất (Ed25519)", checkpoint),
        ("Lần kiểm tra toàn bộ nhật ký gần nhất", full),
        *signing_key_pairs(i.current_key, i.signing_keys, "các sự kiện của kỳ"),
    ]
    how = (
        "Cách tự kiểm tra, không cần hệ thống: xuất nhật ký bằng lệnh "
        "“python manage.py audit_export --out THƯ_MỤC”, rồi chạy “python THƯ_MỤC/verifier.py THƯ_MỤC --trusted-key "
        "DẤU_VÂN_TAY” trên bất kỳ máy nào có Python 3, với dấu vân tay khóa ký nêu trên. Chương trình tính lại giá trị băm "
        "của từng sự kiện, kiểm tra liên kết giữa các sự kiện và chữ ký của các điểm kiểm tra, chỉ chấp nhận điểm kiểm tra "
        "do khóa có dấu vân tay đã cho ký, và chỉ ra sự kiện đầu tiên bị sai lệch nếu có. Giá trị băm "
        "của sự kiện đầu và cuối kỳ ở trên phải trùng với giá trị trong tệp events.jsonl. Giá trị băm SHA-256 của chính "
        "báo cáo này được ghi vào nhật ký khi báo cáo được lập."
    )
    return [
        CondPageBreak(60 * mm),
        para("6. Tính toàn vẹn của nhật ký hệ thống", "h1"),
        key_values(pairs, (70 * mm, 180 * mm)),
        Spacer(1, 3 * mm),
        para(how, "small"),
    ]


def render_period_report(data, out, *, code, author, progress=None):
    """Write the period report to the binary file `out`; returns the number of pages."""
    register_fonts()
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
        para(title.upper(), "title"),
        para(f"Kỳ báo cáo từ ngày {day(data.scope.date_from)} đến ngày {day(data.scope.date_to)}", "subtitle"),
        Spacer(1, 4 * mm),
        key_values(_scope_lines(data, meta), (50 * mm, 120 * mm)),
    ]
    story += _summary_section(data)
    story += [CondPageBreak(50 * mm), *_turnaround_section(data)]
    story += _register_section(data, progress)
    story += _refusal_section(data)
    story += _pattern_section(data)
    story += _integrity_section(data)
    header = page_header(f"{title} — {code}")
    footer = f"Mã báo cáo {code} · lập lúc {when(data.generated_at, seconds=True)}"
    doc.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=canvas_with_footer(footer))
    return doc.page


# The request dossier --------------------------------------------------------------------------------


def render_dossier(dossier, out, *, code, author):
    """Write one request's dossier (an oversight.reports.Dossier) to the binary file `out`; returns the number of pages."""
    register_fonts()
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
                ("Gửi lúc / hạn xử lý", f"{when(footage_request.submitted_at)} / {when(footage_request.due_at)}"),
                ("Quyết định lúc", when(footage_request.decided_at)),
                ("Giá trị băm nội dung (SHA-256)", footage_request.content_hash or "—"),
            ],
            (50 * mm, width - 50 * mm),
        ),
        para("2. Camera và khoảng thời gian", "h1"),
    ]
    story += table(
        ["Camera", "Tên", "Từ", "Đến", "Loại dữ liệu"],
        [[i.camera.code, i.camera.name, when(i.start), when(i.end), i.data_category.name_vi] for i in dossier.items],
        [28 * mm, 52 * mm, 28 * mm, 28 * mm, width - 136 * mm],
    )
    story.append(para("3. Tài liệu kèm theo", "h1"))
    story += table(
        ["Loại", "Tên tệp", "Tải lên", "SHA-256"],
        [
            [a.get_kind_display(), a.original_name, f"{when(a.uploaded_at)}\n{a.uploaded_by.display_name}", a.sha256]
            for a in dossier.attachments
        ],
        [32 * mm, 38 * mm, 32 * mm, width - 102 * mm],
        fonts={3: MONO},
    )
    story.append(para("4. Các quyết định", "h1"))
    story += table(
        ["Thời điểm", "Bước", "Người quyết định", "Kết quả", "Lý do", "Nội dung đã xét (SHA-256)"],
        [
            [
                when(d.created_at),
                d.get_step_display(),
                f"{d.actor.display_name}\n{d.actor_agency.name_vi}",
                d.get_outcome_display(),
                d.reason or "—",
                d.content_hash,
            ]
            for d in dossier.decisions
        ],
        [24 * mm, 18 * mm, 34 * mm, 24 * mm, 32 * mm, width - 132 * mm],
        fonts={5: MONO},
    )
    if dossier.comments:
        story.append(para("5. Trao đổi", "h1"))
        story += table(
            ["Thời điểm", "Người viết", "Nội dung"],
            [[when(c.created_at), c.author.display_name, c.body] for c in dossier.comments],
            [26 * mm, 40 * mm, width - 66 * mm],
        )
    story.append(para("6. Dữ liệu đã cung cấp", "h1"))
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
    story += [PageBreak(), para("7. Nhật ký hệ thống của yêu cầu", "h1")]
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
            "Hồ sơ này không mang chữ ký số; giá trị băm SHA-256 của nó được ghi vào nhật ký khi hồ sơ được lập.",
            "small",
        ),
    ]
    header = page_header(f"Hồ sơ yêu cầu {footage_request.reference} — {code}")
    footer = f"Mã {code} · lập lúc {when(dossier.generated_at, seconds=True)}"
    doc.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=canvas_with_footer(footer))
    return doc.page
