"""The verification record (biên bản kiểm tra tệp dữ liệu): a printable account of one check of a file against
the released packages, for a court clerk's case file. Always in Vietnamese, like the hand-over record.

It says what was checked and nothing more: the SHA-256 of the bytes received (or of a pasted value, which the
system did not compute) against the SHA-256 of the released files as recorded when they were released. It is
made only from a result the server signed on the check page (`requests.verification.record_token`) and shows
nothing that page did not show.
"""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from documents.pdf import (
    BOLD,
    RECORD_WIDTH,
    canvas_with_footer,
    draft_heading,
    header_of,
    number,
    record_document,
    register_fonts,
    signature_block,
)
from governance.timefmt import DATE_TIME_SECONDS, local_time
from requests.export_handover import BASE_FONT, _p, _signing_key_lines, _size, _styles

MATCH_INK = colors.HexColor("#1e6b34")
NO_MATCH_INK = colors.HexColor("#8a4b00")


def _verdict(result):
    """The headline, its colour and the sentence under it."""
    if result["released_match"]:
        return (
            "KẾT QUẢ: KHỚP",
            MATCH_INK,
            "Tệp được kiểm tra trùng khớp (cùng giá trị SHA-256) với tệp đã giao nêu dưới đây.",
        )
    if result.get("original_match"):
        return (
            "KẾT QUẢ: KHỚP VỚI BẢN GỐC DO TRUNG TÂM LƯU GIỮ",
            MATCH_INK,
            "Tệp được kiểm tra trùng khớp (cùng giá trị SHA-256) với bản gốc nêu dưới đây: bản gốc do trung tâm lưu "
            "giữ, không được giao; bên nhận được giao bản che mờ của nó.",
        )
    if result["matches"]:
        return (
            "KẾT QUẢ: KHỚP VỚI TỆP CHƯA ĐƯỢC GIAO",
            NO_MATCH_INK,
            "Tệp được kiểm tra trùng khớp với tệp của một gói dữ liệu bị giữ lại vì phát hiện ghi hình bị lỗi khi "
            "giải mã: gói này chưa được giao.",
        )
    scope = (
        f"trong gói dữ liệu {result['release'].footage_request.reference}"
        if result["release"] is not None
        else "trong các gói dữ liệu đã giao"
    )
    return (
        "KẾT QUẢ: KHÔNG KHỚP",
        NO_MATCH_INK,
        f"Không có tệp nào {scope} có giá trị SHA-256 này: tệp không phải là tệp đã giao, hoặc đã bị thay đổi.",
    )


def _matches_table(result, s):
    rows = [[_p(h, s["small"]) for h in ("Mã hồ sơ", "Tên tệp", "Ngày giao")]]
    for match in result["matches"]:
        release = match.release
        when = local_time(release.created_at, DATE_TIME_SECONDS)
        if match.held:
            given = f"xuất ngày {when}; bị giữ lại, chưa giao"
        elif match.kind == "original":
            # The original of a redacted copy: kept by the centre, not in the package handed over.
            given = f"bản gốc do trung tâm lưu giữ, không giao (bản che mờ của nó giao ngày {when})"
        else:
            given = when
        rows.append(
            [
                _p(release.footage_request.reference, s["small"]),
                _p(match.name, s["mono"]),
                _p(given, s["small"]),
            ]
        )
    made = Table(rows, colWidths=[34 * mm, 90 * mm, 50 * mm], repeatRows=1)
    made.setStyle(
        TableStyle(
            [
                BASE_FONT,
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return made


def render_verification_record(*, result, record_id, heading=None):
    """The PDF bytes of the record of one check (`requests.verification.record_result`); `heading` the record's
    number, issuer and date (`releases.release_verify_record`)."""
    register_fonts()
    heading = heading or draft_heading(record_id)
    s = _styles()
    buffer = io.BytesIO()
    doc = record_document(buffer, title=f"Biên bản kiểm tra tệp dữ liệu {record_id}")
    uploaded = result["file_name"] is not None
    sha256 = result["sha256"]
    headline, ink, sentence = _verdict(result)
    verdict_style = ParagraphStyle(
        "verdict",
        parent=s["base"],
        fontName=BOLD,
        fontSize=13,
        leading=17,
        textColor=ink,
        borderColor=ink,
        borderWidth=1,
        borderPadding=5,
        leftIndent=5,
        rightIndent=5,
        spaceBefore=4,
        spaceAfter=8,
    )
    story = [
        header_of(heading, width=RECORD_WIDTH),
        Spacer(1, 7 * mm),
        _p("BIÊN BẢN KIỂM TRA TỆP DỮ LIỆU", s["title"]),
        _p("(đối chiếu giá trị băm SHA-256 của tệp với dữ liệu camera đã giao)", s["center"]),
        _p(f"Mã biên bản: {record_id}", s["center"]),
        Spacer(1, 5 * mm),
        _p("1. Tệp được kiểm tra", s["heading"]),
    ]
    if uploaded:
        story += [
            _p(f"Tên tệp (do người kiểm tra tải lên): {result['file_name']}", s["base"]),
            _p(f"Dung lượng: {number(result['size'])} byte ({_size(result['size'])})", s["base"]),
            _p("Giá trị SHA-256 do hệ thống tính trên toàn bộ các byte của tệp nhận được:", s["base"]),
        ]
    else:
        story += [
            _p(
                "Không có tệp nào được tải lên: người kiểm tra dán vào giá trị SHA-256 dưới đây. Hệ thống không nhận "
                "tệp và không tự tính giá trị này, nên biên bản không xác nhận giá trị đó là của tệp nào.",
                s["base"],
            ),
            _p("Giá trị SHA-256 được dán vào:", s["base"]),
        ]
    story += [
        _p(sha256, s["mono"]),
        _p("2. Thời điểm", s["heading"]),
        _p(f"Kiểm tra lúc: {local_time(result['checked_at'], DATE_TIME_SECONDS)}", s["base"]),
        _p(f"Lập biên bản lúc: {local_time(timezone.now(), DATE_TIME_SECONDS)}", s["base"]),
        _p(
            "Phạm vi đối chiếu: "
            + (
                f"các tệp của gói dữ liệu {result['release'].footage_request.reference} (đường dẫn kiểm tra do trung "
                "tâm giám sát cấp cho gói này)."
                if result["release"] is not None
                else "các tệp của mọi gói dữ liệu có trong hệ thống."
            ),
            s["base"],
        ),
        _p("3. Kết quả", s["heading"]),
        Paragraph(escape(headline), verdict_style),
        _p(sentence, s["base"]),
    ]
    if result["matches"]:
        story += [Spacer(1, 2 * mm), _matches_table(result, s)]
    compared = (
        "giá trị SHA-256 do hệ thống tính trên các byte của tệp nhận được"
        if uploaded
        else "giá trị SHA-256 do người kiểm tra dán vào"
    )
    story += [
        _p("4. Những gì đã được đối chiếu", s["heading"]),
        _p(
            f"Hệ thống so sánh {compared} với giá trị SHA-256 của từng tệp trong danh mục (manifest) của "
            + ("gói dữ liệu nói trên" if result["release"] is not None else "các gói dữ liệu")
            + ", như đã ghi vào sổ nhật ký kiểm toán khi gói được giao. Hai tệp có cùng giá trị SHA-256 được coi là "
            "trùng khớp từng byte.",
            s["base"],
        ),
        _p("5. Những gì KHÔNG được kiểm tra", s["heading"]),
        *[
            _p(f"• {line}", s["base"])
            for line in (
                "Tệp không được giải mã, không được xem và không được lưu lại: hệ thống chỉ tính giá trị SHA-256 của nó.",
                "Kết quả KHỚP chỉ cho biết tệp đúng là tệp trung tâm giám sát đã giao, không bị thay đổi; nó không "
                "chứng minh điều gì về nội dung ghi hình ngoài việc đó (tính xác thực của cảnh quay, thời gian trên "
                "hình, kết quả kiểm tra giải mã khi xuất gói ghi trong biên bản giao nhận).",
                "Kết quả KHÔNG KHỚP không cho biết tệp đã bị thay đổi ở đâu hay bằng cách nào.",
                "Tên tệp và dung lượng được ghi lại như người kiểm tra cung cấp; tên tệp không được dùng để đối chiếu.",
            )
        ],
        # The last section stays on the page of the block that closes the record.
        KeepTogether(
            [
                _p("6. Ghi nhận", s["heading"]),
                _p(
                    f"Việc kiểm tra và việc lập biên bản này được ghi vào sổ nhật ký kiểm toán của hệ thống, kèm mã biên bản "
                    f"{record_id} và giá trị SHA-256 của tệp biên bản.",
                    s["base"],
                ),
                *_signing_key_lines(s),
                # Made by the system at the checker's request, with nobody at the centre taking part: no person signs it.
                signature_block(
                    "Hệ thống kiểm chứng dữ liệu camera",
                    "",
                    role_line=heading.issuer.name,
                    note="(Biên bản do hệ thống tự động lập theo yêu cầu của người kiểm tra, không có người ký tay; "
                    "tệp PDF mang chữ ký số của tổ chức)",
                    width=RECORD_WIDTH,
                ),
            ]
        ),
    ]
    doc.build(
        story, canvasmaker=canvas_with_footer(f"Biên bản kiểm tra số {heading.number} · mã {record_id}", margin=doc.leftMargin)
    )
    return buffer.getvalue()
