"""The hand-over record (biên bản giao nhận dữ liệu điện tử) that goes into every package, as a PDF.

Criminal Procedure Code 101/2015 Art. 88.4 asks that what is handed over be
written down, Art. 99 and 107 that its integrity can be shown: the record
lists every file with its SHA-256 and carries the manifest's hash as a QR code.
It is always in Vietnamese, whatever the language of the person who ran it.
"""

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone, translation
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from audit.selectors import current_signing_key_fingerprint
from documents.pdf import (
    BOLD,
    RECORD_WIDTH,
    REGULAR,
    canvas_with_footer,
    decimal,
    draft_heading,
    header_of,
    nfc,
    qr_drawing,
    record_document,
    register_fonts,
    signature_block,
)
from governance.timefmt import DATE_TIME, DATE_TIME_SECONDS, duration_text, local_time
from requests.integrity import damage_lines_vi, scope_lines_vi
from requests.verification import verification_url

# Whatever ReportLab would fill in by itself is Helvetica, which the PDF does not embed: every table names the font.
BASE_FONT = ("FONT", (0, 0), (-1, -1), REGULAR, 10)


def _styles():
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=10, leading=13)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "indented": ParagraphStyle("indented", parent=base, fontSize=8, leading=10, leftIndent=4 * mm, spaceBefore=1),
        "mono": ParagraphStyle("mono", parent=base, fontSize=7, leading=9, wordWrap="CJK"),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "center_bold": ParagraphStyle("center_bold", parent=base, fontName=BOLD, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=14, leading=18, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", parent=base, fontName=BOLD, fontSize=11, leading=15, spaceBefore=6),
    }


def _p(text, style):
    return Paragraph(escape(nfc(text)).replace("\n", "<br/>"), style)


def _size(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            # Vietnamese decimals: "640,8 KB", like the thousands dot beside it.
            return f"{n:.0f} {unit}" if unit == "B" else f"{decimal(n)} {unit}"
        n /= 1024
    return str(n)


def _signing_key_lines(s):
    # The ledger key is named so that an exported ledger bundle can be checked
    # against it (verifier.py --trusted-key); this record itself is not signed with it.
    fingerprint = current_signing_key_fingerprint()
    if not fingerprint:
        return []
    return [
        Spacer(1, 2 * mm),
        _p(
            "Dấu vân tay khóa ký nhật ký kiểm toán (để kiểm tra gói nhật ký xuất ra; biên bản này không ký bằng khóa đó):",
            s["small"],
        ),
        _p(fingerprint, s["mono"]),
    ]


def _integrity_lines(manifest, s):
    """What the decode check found in each file, in plain Vietnamese: exactly what was checked, every damaged range
    and every time without footage it found, and what such a check cannot find."""
    damaged = sum(1 for entry in manifest["files"] if not (_footage_integrity(entry) or {}).get("decoded"))
    story = [_p("Kết quả kiểm tra giải mã:", s["heading"])]
    if damaged:
        story.append(
            _p(
                f"{damaged}/{len(manifest['files'])} tệp có đoạn ghi hình bị lỗi hoặc bị thiếu; các đoạn đó được nêu "
                "dưới đây và trong tệp manifest.json (mục “integrity”).",
                s["base"],
            )
        )
    for number, entry in enumerate(manifest["files"], start=1):
        lines = damage_lines_vi(_footage_integrity(entry))
        story.append(_p(f"• Tệp {number} ({entry['camera']}): {lines[0]}", s["small"]))
        story += [_p(f"– {line}", s["indented"]) for line in lines[1:]]
        if entry.get("redacted_from"):
            story.append(_p(f"– {_copy_line_vi(entry.get('integrity') or {})}", s["indented"]))
    story.append(Spacer(1, 1.5 * mm))
    story += [_p(line, s["small"]) for line in scope_lines_vi([_footage_integrity(e) for e in manifest["files"]])]
    return story


def _footage_integrity(entry):
    """The decode check of the footage a file holds: of its original, for a redacted copy (the copy is made from it)."""
    original = entry.get("redacted_from")
    return original.get("integrity") if original else entry.get("integrity")


def _copy_line_vi(checked):
    """The redacted copy's own decode check, in Vietnamese."""
    if checked.get("decoded"):
        return f"Bản che mờ: giải mã đủ {checked.get('frames_decoded')} khung hình, không có lỗi (kết quả trên là của bản gốc)."
    return (
        f"Bản che mờ: bộ giải mã trả về {checked.get('frames_decoded')}/{checked.get('frames_in_file')} khung hình, có lỗi "
        "khi giải mã; xem manifest.json (mục “integrity” của tệp)."
    )


def _window_text(item):
    return (
        f"{item.camera.code}: {local_time(item.start, DATE_TIME_SECONDS)} – {local_time(item.end, DATE_TIME_SECONDS)}"
        f" ({item.data_category.code})"
    )


REQUESTED_STATE_VI = {
    "kept": "được duyệt như đề nghị",
    "shortened": "được duyệt một phần (rút ngắn)",
    "dropped": "không được duyệt",
}


def _scope_lines(comparison, s):
    """The scope as requested beside the scope approved, when an approver narrowed it (`selectors.narrowed_scope`:
    the filing as sent and the scope the request was approved with, never the ledger)."""
    if comparison is None:
        return []
    struck = ParagraphStyle("struck", parent=s["indented"], textColor=colors.HexColor("#8a1c1c"))
    story = [
        _p("Phạm vi đề nghị và phạm vi được phê duyệt:", s["heading"]),
        _p(
            "Lãnh đạo phê duyệt đã thu hẹp phạm vi dữ liệu so với đề nghị: "
            + "; ".join(
                f"{d.actor.display_name} ({d.actor_agency.name_vi if d.actor_agency_id else '—'}), "
                f"{local_time(d.created_at, DATE_TIME_SECONDS)}"
                for d in comparison.narrowings
            )
            + ". Chỉ dữ liệu trong phạm vi được phê duyệt được trích xuất và giao.",
            s["small"],
        ),
        _p("Phạm vi đề nghị (theo hồ sơ đã gửi):", s["small"]),
    ]
    for row in comparison.requested:
        text = f"• {_window_text(row.item)} — {REQUESTED_STATE_VI[row.state]}"
        if row.state == "kept":
            story.append(_p(text, s["indented"]))
        else:
            # Struck through: what was asked and not given.
            story.append(
                Paragraph(
                    f"<strike>{escape(nfc(_window_text(row.item)))}</strike> — {escape(REQUESTED_STATE_VI[row.state])}", struck
                )
            )
    story.append(_p("Phạm vi được phê duyệt (đã trích xuất):", s["small"]))
    story += [_p(f"• {_window_text(row.item)}", s["indented"]) for row in comparison.approved]
    return story


def _verification_link(path, s):
    """The QR code and the printed address of the page where a recipient checks a file of this package without an
    account; where the site's address is not configured, only the path, saying so."""
    if not path:
        return []
    url = verification_url(path)
    until = local_time(timezone.now() + dt.timedelta(days=settings.VERIFY_LINK_DAYS), DATE_TIME)
    validity = (
        f"Đường dẫn có hiệu lực đến {until}, trừ khi trung tâm thu hồi trước; sau đó đề nghị trung tâm giám sát "
        "cấp đường dẫn mới. Giá trị SHA-256 in trong biên bản này vẫn đối chiếu được bằng bất kỳ công cụ tính "
        "SHA-256 nào."
    )
    if url is None:
        return [
            _p("Đường dẫn kiểm tra tệp (không cần tài khoản):", s["small"]),
            _p(path, s["mono"]),
            _p(
                "Địa chỉ trang web của hệ thống chưa được cấu hình nên biên bản chỉ in phần đường dẫn, không in mã QR: "
                "ghép đường dẫn trên vào sau địa chỉ trang web của trung tâm giám sát để mở trang kiểm tra.",
                s["small"],
            ),
            _p(validity, s["small"]),
        ]
    return [
        Table(
            [
                [
                    qr_drawing(url, size=34 * mm),
                    [
                        _p(
                            "Quét mã QR này để mở trang kiểm tra tệp của gói dữ liệu này (không cần tài khoản): tải "
                            "một tệp lên hoặc dán giá trị SHA-256 của nó, hệ thống cho biết tệp có trùng khớp với một "
                            "tệp đã giao hay không.",
                            s["small"],
                        ),
                        _p(url, s["mono"]),
                        _p(validity, s["small"]),
                    ],
                ]
            ],
            colWidths=[38 * mm, 136 * mm],
            style=TableStyle([BASE_FONT, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
        )
    ]


def _clip_length(seconds):
    """A clip's length as people say it, with the exact seconds the manifest gives: "4 phút (240,5 giây)"."""
    exact = f"{seconds:.1f} giây".replace(".", ",")
    if seconds < 60:
        return exact
    with translation.override("vi"):
        return f"{duration_text(seconds)} ({exact})"


def _contents_text(manifest):
    """What was handed over and how it was made: copied as recorded, or redacted copies of originals kept here."""
    count = len(manifest["files"])
    redacted = [entry for entry in manifest["files"] if entry.get("redacted_from")]
    if not redacted:
        return (
            f"Bên giao đã giao cho bên nhận {count} tệp dữ liệu ghi hình, trích xuất bằng cách sao chép "
            "nguyên trạng các khung hình đã ghi (sao chép luồng, không mã hóa lại) từ hệ thống lưu trữ. Phần hình ảnh "
            "của mỗi tệp đã được giải mã từng khung hình để kiểm tra; kết quả và giới hạn của phép kiểm tra này ghi ở "
            "mục “Kết quả kiểm tra giải mã” dưới đây. "
            "Mỗi tệp được xác định bằng giá trị băm SHA-256 dưới đây:"
        )
    records = [entry.get("redaction") or {} for entry in redacted]
    faces = any((record.get("settings") or {}).get("faces") for record in records)
    visible = sum(record.get("faces_left_visible") or 0 for record in records)
    if faces:
        blurred = (
            "khuôn mặt do bộ phát hiện tìm thấy (xét mỗi 3 khung hình, giữa hai lần xét vị trí được nội suy; bộ phát "
            "hiện có thể bỏ sót khuôn mặt quá nhỏ, bị che khuất hoặc chỉ xuất hiện trong ít khung hình) và các vùng do "
            "cán bộ vận hành vẽ đã được làm mờ"
        )
    else:
        blurred = "các vùng do cán bộ vận hành vẽ đã được làm mờ (không dùng bộ phát hiện khuôn mặt)"
    if visible:
        blurred += "; người yêu cầu (chủ thể dữ liệu) được giữ nguyên hình trong vùng đã đánh dấu"
    return (
        f"Bên giao đã giao cho bên nhận {count} tệp dữ liệu ghi hình, trong đó {len(redacted)} tệp là bản che mờ để bảo "
        f"vệ dữ liệu cá nhân của người khác: {blurred}; hình ảnh được mã hóa lại (H.264), không có âm thanh; danh sách "
        "vùng che mờ theo từng khoảng thời gian, công cụ và phiên bản sử dụng, người rà soát được ghi trong "
        "manifest.json. Bản gốc của mỗi bản che mờ "
        "được trích xuất bằng cách sao chép nguyên trạng các khung hình đã ghi và do bên giao lưu giữ, không giao cho "
        "bên nhận; giá trị SHA-256 của bản gốc ghi kèm để đối chiếu. Phần hình ảnh của mỗi tệp đã được giải mã từng "
        "khung hình để kiểm tra; kết quả và giới hạn của phép kiểm tra này ghi ở mục “Kết quả kiểm tra giải mã” dưới "
        "đây. Mỗi tệp được xác định bằng giá trị băm SHA-256 dưới đây:"
    )


def _hashes_cell(entry, s):
    original = entry.get("redacted_from")
    if not original:
        return _p(entry["sha256"], s["mono"])
    return [
        _p("Bản che mờ (đã giao):", s["small"]),
        _p(entry["sha256"], s["mono"]),
        _p("Bản gốc (bên giao lưu giữ):", s["small"]),
        _p(original["sha256"], s["mono"]),
    ]


def _recipient_lines(manifest, s):
    subject = manifest.get("data_subject")
    if subject:
        return [
            _p(f"Ông/Bà: {subject['person_name']} — người yêu cầu dữ liệu hình ảnh của chính mình (chủ thể dữ liệu)", s["base"]),
            _p(f"Giấy tờ tùy thân: {subject['document']}, đã kiểm tra (số giấy tờ không ghi vào biên bản này).", s["base"]),
        ]
    return [
        _p(f"Đơn vị: {manifest['agency']}", s["base"]),
        _p(f"Đại diện: {manifest['requester']} — cán bộ đề nghị", s["base"]),
        _p(f"Số hồ sơ / vụ việc: {manifest['case_reference'] or '—'}", s["base"]),
    ]


def render_handover(*, footage_request, manifest, manifest_sha256, scope=None, verify_path=None, heading=None):
    """The PDF bytes of the hand-over record for one package: `scope` the narrowed scope to show
    (`selectors.narrowed_scope`), `verify_path` the path of the package's verification link, `heading` the record's
    number, issuer and date (`export._handover_heading`)."""
    register_fonts()
    s = _styles()
    buffer = io.BytesIO()
    doc = record_document(
        buffer, title=f"Biên bản giao nhận dữ liệu {footage_request.reference}", author=footage_request.agency.name_vi
    )
    provider = manifest.get("provider") or {}
    heading = heading or draft_heading(
        f"{footage_request.reference}/BBGN", name=provider.get("agency") or "Trung tâm giám sát camera"
    )
    story = [header_of(heading, width=RECORD_WIDTH), Spacer(1, 7 * mm), _p("BIÊN BẢN GIAO NHẬN DỮ LIỆU ĐIỆN TỬ", s["title"])]
    story += [_p("(dữ liệu ghi hình từ hệ thống camera giám sát)", s["center"]), Spacer(1, 5 * mm)]
    basis = manifest["legal_basis"]
    letter = manifest["official_letter"]
    letter_date = dt.date.fromisoformat(letter["date"]).strftime("%d/%m/%Y")
    subject = manifest.get("data_subject")
    if subject:
        # A person asking for their own footage: no criminal procedure, no official letter.
        asked = [
            f"Căn cứ yêu cầu của ông/bà {subject['person_name']} tiếp nhận tại {manifest['agency']} ngày {letter_date} "
            f"({letter['number']}); giấy tờ tùy thân ({subject['document']}) đã được {subject['checked_by']} kiểm tra;",
        ]
    else:
        asked = [
            "Căn cứ Điều 88 khoản 4, Điều 99 và Điều 107 Bộ luật Tố tụng hình sự số 101/2015/QH13;",
            f"Căn cứ công văn số {letter['number']} ngày {letter_date} của {manifest['agency']};",
        ]
    # The criminal procedure first, then the legal basis, then the letter; a person's own request: the basis, then them.
    before, after = ([], asked) if subject else (asked[:1], asked[1:])
    grounds = [
        *before,
        f"Căn cứ {basis['citation']} ({basis['title']});",
        *after,
        "Căn cứ quyết định phê duyệt của: "
        + "; ".join(
            f"{a['name']} ({a['agency']}, {local_time(a['signed_at'], DATE_TIME_SECONDS)})" for a in manifest["approvals"]
        )
        + ".",
    ]
    story += [_p(line, s["base"]) for line in grounds]
    story += [
        Spacer(1, 3 * mm),
        _p(f"Hôm nay, hồi {local_time(timezone.now(), '%H giờ %M ngày %d/%m/%Y')}, chúng tôi gồm:", s["base"]),
        _p("BÊN GIAO", s["heading"]),
        _p(f"Đơn vị: {provider.get('agency') or '—'}", s["base"]),
        _p(f"Đại diện: {provider.get('name') or '—'} — cán bộ vận hành", s["base"]),
        _p("BÊN NHẬN", s["heading"]),
        *_recipient_lines(manifest, s),
        _p("NỘI DUNG GIAO NHẬN", s["heading"]),
        _p(_contents_text(manifest), s["base"]),
        Spacer(1, 2 * mm),
    ]
    rows = [[_p(h, s["small"]) for h in ("TT", "Camera", "Thời gian ghi hình", "Thời lượng, dung lượng", "SHA-256")]]
    for number, entry in enumerate(manifest["files"], start=1):
        duration = entry.get("duration")
        rows.append(
            [
                _p(str(number), s["small"]),
                _p(entry["camera"], s["small"]),
                _p(
                    f"{local_time(entry['first_timestamp'], DATE_TIME_SECONDS)}\n"
                    f"– {local_time(entry['last_timestamp'], DATE_TIME_SECONDS)}",
                    s["small"],
                ),
                _p(f"{_clip_length(duration)}\n{_size(entry['size'])}" if duration else _size(entry["size"]), s["small"]),
                _hashes_cell(entry, s),
            ]
        )
    table = Table(rows, colWidths=[9 * mm, 22 * mm, 50 * mm, 26 * mm, 67 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                BASE_FONT,
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    story += _integrity_lines(manifest, s)
    gaps = [(item["camera"], gap) for item in manifest["items"] for gap in item["gaps"]]
    missing = [item for item in manifest["items"] if not item.get("file")]
    if gaps or missing:
        story.append(_p("Khoảng trống trong dữ liệu (không có bản ghi hoặc tệp nguồn không đọc được):", s["heading"]))
        for camera, gap in gaps:
            cause = "tệp nguồn không đọc được" if gap["cause"] == "unreadable segment" else "không có bản ghi"
            span = f"{local_time(gap['from'], DATE_TIME_SECONDS)} – {local_time(gap['to'], DATE_TIME_SECONDS)}"
            story.append(_p(f"• {camera}: {span} ({cause})", s["small"]))
        for item in missing:
            story.append(_p(f"• {item['camera']}: không trích xuất được dữ liệu cho khung giờ đề nghị", s["small"]))
    story += _scope_lines(scope, s)
    qr = Table(
        [
            [
                qr_drawing(manifest_sha256),
                [
                    _p("Giá trị băm SHA-256 của tệp manifest.json (danh mục tệp kèm theo):", s["small"]),
                    _p(manifest_sha256, s["mono"]),
                    Spacer(1, 2 * mm),
                    _p(
                        "Bên nhận có thể đối chiếu từng tệp tại trang Kiểm tra tệp của hệ thống. "
                        "Biên bản được lập thành văn bản điện tử kèm theo gói dữ liệu, có giá trị như nhau đối với các bên.",
                        s["small"],
                    ),
                    *_signing_key_lines(s),
                ],
            ]
        ],
        colWidths=[36 * mm, 138 * mm],
    )
    qr.setStyle(TableStyle([BASE_FONT, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [Spacer(1, 4 * mm), qr]
    if verify_path:
        # The heading never stays alone at the foot of a page.
        story.append(KeepTogether([_p("Kiểm tra tệp đã nhận:", s["heading"]), *_verification_link(verify_path, s)]))
    # The centre issues the record and signs the file; the recipient's representative signs a printed copy.
    story.append(
        signature_block(
            "Cán bộ vận hành xuất dữ liệu",
            provider.get("name") or "",
            role_line="Đại diện bên giao",
            counterpart=("Đại diện bên nhận", "Cán bộ đề nghị", "(ký, ghi rõ họ tên trên bản in)", manifest["requester"]),
            width=RECORD_WIDTH,
        )
    )
    footer = f"Biên bản giao nhận số {heading.number} · yêu cầu {footage_request.reference}"
    doc.build(story, canvasmaker=canvas_with_footer(footer, margin=doc.leftMargin))
    return buffer.getvalue()
