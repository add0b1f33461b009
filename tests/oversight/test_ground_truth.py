"""The November 2026 report against what was really done in November: every figure, table and name.

The month is played once for the module through the real workflow on a frozen clock (tests/oversight/scenario.py);
each test reads the period report (the data, the CSV zip and the PDF) and compares it with the scenario's own tally.
"""

import csv
import hashlib
import io
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import time_machine
from django.test import TestCase, override_settings
from django.utils import translation

from audit.models import Action
from governance.timefmt import duration_text
from oversight.report_csv import write_report_csv
from oversight.report_data import ReportScope, collect
from oversight.report_pdf import render_period_report
from requests.models import FootageRequest, Release, Status
from tests.oversight.scenario import (
    DATE_FROM,
    DATE_TO,
    END,
    START,
    Month,
    local,
    play_more_after_the_period,
    play_november,
    settings_for,
)
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

SCOPE = ReportScope(date_from=DATE_FROM, date_to=DATE_TO)
BUILT = local(12, 3, 8)
OUTCOMES = ("filed", "approved", "rejected", "withdrawn", "expired", "released")


@pytest.fixture(scope="module")
def november(django_db_setup, django_db_blocker, tmp_path_factory):
    """The month, played once; every test runs inside its transaction, which is rolled back when the module ends."""
    root = tmp_path_factory.mktemp("november")
    with django_db_blocker.unblock(), override_settings(**settings_for(root)):
        # The same kind of outer transaction a TestCase opens for its class: services that require a durable
        # transaction of their own run inside it as they do inside a test's.
        atomics = TestCase._enter_atomics()
        try:
            month = Month(root)
            play_november(month)
            yield month
        finally:
            TestCase._rollback_atomics(atomics)


def report(at=BUILT):
    with time_machine.travel(at, tick=False):
        return collect(SCOPE, now=at)


def iso(moment):
    return moment.astimezone(START.tzinfo).isoformat(timespec="seconds") if moment else ""


def csv_zip(data, code="BC-2026-11") -> bytes:
    out = io.BytesIO()
    write_report_csv(data, out, code=code)
    return out.getvalue()


def csv_members(payload: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_tables(data) -> dict[str, list[dict]]:
    tables = {}
    for name, raw in csv_members(csv_zip(data)).items():
        tables[name] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    return tables


def by_reference(month, key):
    return month.requests[key].reference


# The data -------------------------------------------------------------------------------------------------


def test_the_summary_counts_what_was_done_in_the_month(november):
    data = report()
    expected = november.expected_summary()
    assert data.summary.keys() == expected.keys()
    hours = ("footage_hours", "redacted_hours")
    assert {key: data.summary[key] for key in expected if key not in hours} == {
        key: value for key, value in expected.items() if key not in hours
    }
    assert data.summary["footage_hours"] == pytest.approx(expected["footage_hours"])
    # The copies' own length: the clip may begin at the keyframe before the window (a second at most here).
    assert data.summary["redacted_hours"] == pytest.approx(expected["redacted_hours"], abs=2 / 3600)
    assert expected["redacted_releases"] == 1 and expected["regions_blurred"] == 1
    # The scenario is what it says it is: every outcome occurs, and the month is not trivially small.
    assert expected["filed"] >= 20 and all(expected[key] for key in OUTCOMES)
    assert expected["overdue_at_end"] >= 3 and expected["late"] >= 4 and expected["narrowed"] == 1


def test_each_breakdown_row_counts_the_requests_of_its_agency_basis_urgency_and_camera_area(november):
    data = report()
    for rows, expected in (
        (data.by_agency, november.expected_by_agency()),
        (data.by_legal_basis, november.expected_by_basis()),
        (data.by_urgency, november.expected_by_urgency()),
        (data.by_camera_area, november.expected_by_camera_area()),
    ):
        assert {row.label: row.counts for row in rows} == expected
    # Cameras stand in three wards, and the city-wide traffic police asks for all of them: the two views differ.
    assert set(november.expected_by_camera_area()) == {"Phường Hàng Bạc", "Phường Hàng Đào", "Phường Hàng Buồm"}
    assert november.expected_by_camera_area() != november.expected_by_agency()
    assert [row.label for row in data.by_urgency] == ["Thường", "Gấp", "Khẩn"]


def test_category_rows_count_items_as_first_filed_and_as_released(november):
    rows = {r.label: (r.requests_filed, r.items_filed, r.released_items, r.released_hours) for r in report().by_category}
    expected = november.expected_by_category()
    assert rows.keys() == expected.keys()
    for label, (filed, items, released, hours_) in expected.items():
        assert rows[label][:3] == (filed, items, released), label
        assert rows[label][3] == pytest.approx(hours_), label


def test_weekly_buckets_split_each_weeks_filings_by_where_they_stood_at_the_end(november):
    assert dict(report().weekly) == november.expected_weekly()


def test_turnaround_counts_and_medians_run_from_the_first_filing(november):
    turnaround = report().turnaround
    expected = november.expected_turnaround()
    assert {key: turnaround[key] for key in ("decisions", "releases")} == {
        key: expected[key] for key in ("decisions", "releases")
    }
    for key in ("decision_median", "decision_p90", "release_median", "release_p90"):
        assert turnaround[key] == pytest.approx(expected[key]), key


def test_the_late_list_names_every_deadline_missed_in_the_month(november):
    late = [(r.reference, r.submitted_at, r.due_at, r.decided_at, r.hours_late) for r in report().turnaround["late"]]
    expected = november.expected_late()
    assert [row[:4] for row in late] == [row[:4] for row in expected]
    assert [row[4] for row in late] == pytest.approx([row[4] for row in expected])
    # Decided after the period: not decided when it ended, and late up to its end only.
    (after,) = [row for row in late if row[0] == by_reference(november, "late_decided_after")]
    assert after[3] is None and after[4] == pytest.approx(39)
    # Decided to the minute at its deadline: in time. Answered after a question: judged by its new deadline.
    assert {by_reference(november, "due_to_the_minute"), by_reference(november, "resubmitted")}.isdisjoint(r[0] for r in late)


def test_what_stood_open_at_the_end_with_its_overdue_hours(november):
    rows = [(r.reference, r.state, r.first_filed_at, r.due_at, r.hours_overdue) for r in report().open_at_end]
    expected = november.expected_open_at_end()
    assert [row[:4] for row in rows] == [row[:4] for row in expected]
    assert [row[4] for row in rows] == pytest.approx([row[4] for row in expected])
    # Overdue since October, and a request waiting on its requester is never overdue.
    assert rows[0][0] == by_reference(november, "oct_overdue") and rows[0][4] > 24 * 30
    (waiting,) = [row for row in rows if row[0] == by_reference(november, "needs_info_open")]
    assert waiting[1] == "Chờ bổ sung thông tin" and waiting[3] < END and waiting[4] is None


def test_the_register_lists_each_release_of_the_month(november):
    rows = list(report().register_rows())
    expected = november.expected_register()
    assert [row.reference for row in rows] == [row["reference"] for row in expected]
    for row, want in zip(rows, expected, strict=True):
        got = {
            "reference": row.reference,
            "released_at": row.released_at,
            "agency": row.agency,
            "legal_basis": row.legal_basis,
            "case_reference": row.case_reference,
            "approvers": row.approvers,
            "custodian": row.custodian,
            "recipients": row.recipients,
            "downloads": row.downloads,
            "windows": list(row.windows),
        }
        assert got == want
        # The files and their hashes are those of the package on disk.
        package = Path(Release.objects.get(footage_request__reference=row.reference).package_path)
        assert row.package_sha256 == hashlib.sha256(package.read_bytes()).hexdigest()
        with zipfile.ZipFile(package) as archive:
            videos = {
                Path(name).name: hashlib.sha256(archive.read(name)).hexdigest()
                for name in archive.namelist()
                if name.endswith(".mp4")
            }
        assert {Path(name).name: sha for name, sha in row.videos} == videos
        assert len(videos) == len(want["windows"])


def test_the_register_names_each_approver_by_account(november):
    rows = {row.reference: row for row in report().register_rows()}
    two = rows[by_reference(november, "two_approvers")]
    assert two.approvers == ["Trần Văn Bình (pheduyet)", "Lê Thị Hoa (pheduyet2)"]
    assert rows[by_reference(november, "narrowed")].approvers == ["Lê Thị Hoa (pheduyet2)"]
    assert rows[by_reference(november, "first_minute")].approvers == ["Trần Văn Bình (pheduyet)"]
    assert {row.custodian for row in rows.values()} == {"Bùi Đức Long (vanhanh)"}
    # Links and downloads up to the period's end: the link and the download of 2 December are not counted.
    first = rows[by_reference(november, "first_minute")]
    assert first.recipients == ["Phạm Thị Lan (alice)", "Đỗ Văn Anh (anh)"] and first.downloads == 3


def test_refusals_ended_requests_narrowing_and_holds(november):
    data = report()
    assert [
        (r.reference, r.decided_at, r.agency, r.legal_basis, r.official, r.official_agency, r.reason) for r in data.refusals
    ] == november.expected_refusals()
    assert [
        (r.reference, r.agency, r.legal_basis, r.outcome, r.first_filed_at, r.ended_at, r.by, r.reason) for r in data.ended
    ] == november.expected_ended()
    # A draft withdrawn was never a request: it is not among the ended ones.
    assert by_reference(november, "draft_withdrawn") not in [r.reference for r in data.ended]
    assert [
        (r.narrowed_at, r.reference, r.agency, r.by, sorted(r.requested), sorted(r.approved)) for r in data.narrowed
    ] == november.expected_narrowed()
    assert [
        (h.reference, h.agency, h.placed_at, h.placed_by, h.reason, h.segments_held, h.lifted_at, h.lifted_by) for h in data.holds
    ] == november.expected_holds()


def test_activity_and_downloads_are_every_act_of_the_month(november):
    data = report()
    assert Counter((r.at, r.reference, r.action, r.who, r.refused) for r in data.activity) == november.expected_activity()
    taken = [(r.at, r.reference, r.action, r.who, r.refused, r.reason if r.refused else r.file) for r in data.downloads]
    assert taken == november.expected_downloads()
    assert {r.action for r in data.downloads} == {
        Action.RELEASE_DOWNLOAD,
        Action.RELEASE_DOWNLOAD_REFUSED,
        Action.RELEASE_LINK_EXPIRED,
    }
    assert data.integrity.ok is True and data.integrity.events >= len(data.activity)


def test_unusual_patterns_are_those_the_month_holds(november):
    patterns = report().patterns
    assert [(f.subject, f.reference) for f in patterns["after_hours"]] == november.expected_after_hours()
    sunday = next(f for f in patterns["after_hours"] if f.reference == by_reference(november, "first_minute"))
    assert sunday.detail == "phê duyệt lúc 01/11/2026 10:00 (UTC+7) (Thường)"
    assert [f.subject for f in patterns["volume"]] == november.expected_volume()
    assert [f.reference for f in patterns["paperwork"]] == november.expected_paperwork()
    assert [f.reference for f in patterns["near_limit"]] == november.expected_near_limit()
    # Four of the five approvals of the ward police of Hàng Bạc by one person is 80 %, not more than 80 %.
    assert [f.subject for f in patterns["one_approver"]] == november.expected_one_approver() == []


def test_each_request_behind_the_figures_adds_to_the_counts_it_should(november):
    facts = {f.reference: f for f in report().facts}
    expected = {t.reference: t for t in november.in_report()}
    assert facts.keys() == expected.keys()
    for reference, t in expected.items():
        fact = facts[reference]
        assert fact.counts == november.counts(t), t.key
        assert fact.first_filed_at == t.first_filed, t.key
        assert fact.state_at_end == t.state_at(END), t.key
        assert (fact.open_at_end, fact.overdue_at_end, fact.late) == (
            november.open_at_end(t),
            november.overdue_at_end(t),
            november.late(t) is not None,
        ), t.key
        assert fact.camera_areas == tuple(sorted(november.areas_filed(t))), t.key
    # Drafts and the request filed a minute after the period are nowhere.
    for key in ("draft_withdrawn", "draft_kept", "after_end"):
        assert by_reference(november, key) not in facts


def test_a_request_filed_on_the_last_day_and_resubmitted_after_it_counts_as_filed_in_the_period(november):
    last_day = november.requests["last_day_info"]
    footage_request = FootageRequest.objects.get(reference=last_day.reference)
    assert footage_request.submitted_at == local(12, 2, 9)  # resubmitted after the period ...
    data = report()
    (fact,) = [f for f in data.facts if f.reference == last_day.reference]
    assert fact.filed and fact.first_filed_at == local(11, 30, 9)  # ... and counted as filed in it
    assert fact.state_at_end == "needs_info" and fact.open_at_end and not fact.overdue_at_end
    week = dict(data.weekly)[DATE_TO]
    assert week["open"] == november.expected_weekly()[DATE_TO]["open"] == 2
    (row,) = [r for r in data.open_at_end if r.reference == last_day.reference]
    assert row.state == "Chờ bổ sung thông tin" and row.due_at == local(12, 5, 9)


def test_filings_a_minute_either_side_of_midnight_fall_in_the_right_period(november):
    facts = {f.reference: f for f in report().facts}
    before_start, after_start = november.requests["oct_last_minute"], november.requests["first_minute"]
    before_end, after_end = november.requests["last_minute"], november.requests["after_end"]
    assert (before_start.first_filed, after_start.first_filed) == (local(10, 31, 23, 59), local(11, 1, 0, 1))
    assert (before_end.first_filed, after_end.first_filed) == (local(11, 30, 23, 59), local(12, 1, 0, 1))
    # Filed in October, rejected in November: a November refusal, not a November filing.
    assert facts[before_start.reference].counts == {**dict.fromkeys(OUTCOMES, 0), "rejected": 1}
    assert facts[after_start.reference].filed and facts[before_end.reference].filed
    assert facts[before_end.reference].open_at_end and facts[before_end.reference].state_at_end == "submitted"
    assert after_end.reference not in facts


# The CSV zip ---------------------------------------------------------------------------------------------

COLUMNS = dict(zip(("gui", "phe_duyet", "tu_choi", "rut_lai", "het_han", "da_cung_cap"), OUTCOMES, strict=True))


def hours_cell(value):
    return "" if value is None else f"{value:.2f}"


def minutes_cell(hours):
    return "" if hours is None else str(round(hours * 60))


def test_the_csv_tables_carry_the_same_figures(november):
    tables = csv_tables(report())
    scope = {row["muc"]: row["gia_tri"] for row in tables["00_pham_vi.csv"]}
    assert (scope["tu_ngay"], scope["den_ngay"], scope["ma_bao_cao"]) == ("2026-11-01", "2026-11-30", "BC-2026-11")
    summary = {row["chi_so"]: row["gia_tri"] for row in tables["01_tong_hop.csv"]}
    expected = november.expected_summary()
    assert summary == {
        key: hours_cell(value) if key in ("footage_hours", "redacted_hours") else str(value) for key, value in expected.items()
    }
    for name, label, want in (
        ("02_theo_co_quan.csv", "co_quan", november.expected_by_agency()),
        ("03_theo_can_cu.csv", "can_cu", november.expected_by_basis()),
        ("04_theo_muc_do.csv", "muc_do", november.expected_by_urgency()),
        ("04b_theo_dia_ban_camera.csv", "dia_ban_camera", november.expected_by_camera_area()),
    ):
        rows = {row[label]: {key: int(row[column]) for column, key in COLUMNS.items()} for row in tables[name]}
        assert rows == want, name
    assert {
        row["loai_du_lieu"]: (int(row["yeu_cau_gui"]), int(row["hang_muc_gui"]), int(row["hang_muc_da_cung_cap"]))
        for row in tables["05_theo_loai_du_lieu.csv"]
    } == {label: values[:3] for label, values in november.expected_by_category().items()}
    assert {
        row["tuan_bat_dau"]: {key: int(row[key]) for key in ("approved", "rejected", "ended", "open")}
        for row in tables["06_theo_tuan.csv"]
    } == {monday.isoformat(): counts for monday, counts in november.expected_weekly().items()}
    turnaround = {row["chi_so"]: row["gia_tri"] for row in tables["07_thoi_gian_xu_ly.csv"]}
    # Durations in whole minutes, the unit named in the key.
    expected_turnaround = november.expected_turnaround()
    counts = {key: str(expected_turnaround.pop(key)) for key in ("decisions", "releases")}
    assert turnaround == counts | {f"{key}_phut": minutes_cell(value) for key, value in expected_turnaround.items()}
    assert [
        (r["so_yeu_cau"], r["gui_lan_dau"], r["han_xu_ly"], r["quyet_dinh_luc"], r["qua_han_phut"])
        for r in tables["08_qua_han.csv"]
    ] == [
        (ref, iso(filed), iso(due), iso(decided), minutes_cell(late))
        for ref, filed, due, decided, late in november.expected_late()
    ]
    assert [
        (r["so_yeu_cau"], r["trang_thai_cuoi_ky"], r["gui_lan_dau"], r["han_xu_ly"], r["qua_han_phut"])
        for r in tables["08b_mo_cuoi_ky.csv"]
    ] == [
        (ref, state, iso(filed), iso(due), minutes_cell(late)) for ref, state, filed, due, late in november.expected_open_at_end()
    ]
    assert [
        (
            r["so_yeu_cau"],
            r["cung_cap_luc"],
            r["co_quan"],
            r["can_cu"],
            r["so_vu_viec"],
            r["nguoi_phe_duyet"],
            r["nguoi_trich_xuat"],
            r["nguoi_nhan"],
            r["so_tep_video"],
            r["luot_tai_den_cuoi_ky"],
        )
        for r in tables["09_so_theo_doi.csv"]
    ] == [
        (
            w["reference"],
            iso(w["released_at"]),
            w["agency"],
            w["legal_basis"],
            w["case_reference"],
            "; ".join(w["approvers"]),
            w["custodian"],
            "; ".join(w["recipients"]),
            str(len(w["windows"])),
            str(w["downloads"]),
        )
        for w in november.expected_register()
    ]
    files = Counter((r["so_yeu_cau"], r["loai"]) for r in tables["10_so_theo_doi_tep.csv"])
    for w in november.expected_register():
        assert [files[(w["reference"], kind)] for kind in ("video", "manifest", "handover", "package")] == [
            len(w["windows"]),
            1,
            1,
            1,
        ]
    assert [
        (r["so_yeu_cau"], r["thoi_diem"], r["nguoi_tu_choi"], r["co_quan_tu_choi"], r["ly_do"]) for r in tables["11_tu_choi.csv"]
    ] == [(ref, iso(at), who, centre, reason) for ref, at, _agency, _basis, who, centre, reason in november.expected_refusals()]
    assert [
        (r["so_yeu_cau"], r["ket_qua"], r["gui_lan_dau"], r["thoi_diem"], r["nguoi_thuc_hien"], r["ly_do"])
        for r in tables["11b_rut_lai_het_han.csv"]
    ] == [
        (ref, outcome, iso(filed), iso(at), who, reason)
        for ref, _agency, _basis, outcome, filed, at, who, reason in november.expected_ended()
    ]
    assert [
        (r["so_yeu_cau"], r["thu_hep_luc"], r["nguoi_thu_hep"], r["pham_vi_de_nghi"], r["pham_vi_phe_duyet"])
        for r in tables["11c_thu_hep_pham_vi.csv"]
    ] == [
        (ref, iso(at), who, windows(requested), windows(approved))
        for at, ref, _agency, who, requested, approved in november.expected_narrowed()
    ]
    assert [
        (r["so_yeu_cau"], r["dat_luc"], r["nguoi_dat"], r["ly_do"], r["so_doan_luu"], r["go_luc"], r["nguoi_go"])
        for r in tables["11d_luu_giu.csv"]
    ] == [
        (ref, iso(placed), by, reason, str(segments), iso(lifted) or "còn hiệu lực cuối kỳ", lifted_by)
        for ref, _agency, placed, by, reason, segments, lifted, lifted_by in november.expected_holds()
    ]
    activity = Counter(
        (r["thoi_diem"], r["so_yeu_cau"], r["ma_hanh_dong"], r["nguoi_thuc_hien"], r["bi_tu_choi"])
        for r in tables["11e_hoat_dong.csv"]
    )
    assert activity == Counter(
        {
            (iso(at), ref, str(action), who, str(int(refused))): n
            for (at, ref, action, who, refused), n in november.expected_activity().items()
        }
    )

    patterns = Counter((r["loai"], r["doi_tuong"], r["so_yeu_cau"]) for r in tables["12_dau_hieu.csv"])
    filed_by = november.requests_by_reference
    assert patterns == Counter(
        [("after_hours", who, ref) for who, ref in november.expected_after_hours()]
        + [("volume", agency, "") for agency in november.expected_volume()]
        + [("paperwork", filed_by[ref].agency, ref) for ref in november.expected_paperwork()]
        + [("near_limit", filed_by[ref].agency, ref) for ref in november.expected_near_limit()]
        + [("one_approver", agency, "") for agency in november.expected_one_approver()]
    )
    integrity = {row["chi_so"]: row["gia_tri"] for row in tables["13_toan_ven_nhat_ky.csv"]}
    assert integrity["ket_qua"] == "toan_ven" and int(integrity["so_su_kien"]) >= len(activity)


def windows(triples):
    return "; ".join(f"{camera} {iso(start)}/{iso(end)}" for camera, start, end in triples)


def test_the_per_request_table_sums_to_every_count(november):
    tables = csv_tables(report())
    rows = tables["14_yeu_cau_theo_chi_so.csv"]
    assert sorted(r["so_yeu_cau"] for r in rows) == sorted(t.reference for t in november.in_report())
    summary = november.expected_summary()
    for column, key in (
        *COLUMNS.items(),
        ("qua_han_trong_ky", "late"),
        ("mo_cuoi_ky", "open_at_end"),
        ("qua_han_cuoi_ky", "overdue_at_end"),
        ("thu_hep", "narrowed"),
    ):
        assert {r[column] for r in rows} <= {"0", "1"}, column
        assert sum(int(r[column]) for r in rows) == summary[key], column
    # Grouped by agency, the rows give the agency table.
    by_agency = {}
    for r in rows:
        counts = by_agency.setdefault(r["co_quan"], Counter())
        counts.update({key: int(r[column]) for column, key in COLUMNS.items()})
    assert {agency: dict(counts) for agency, counts in by_agency.items() if any(counts.values())} == (
        november.expected_by_agency()
    )
    # Each row's state is where the request stood when the period ended, whatever happened to it since.
    states = {r["so_yeu_cau"]: r["trang_thai_cuoi_ky"] for r in rows}
    assert states == {t.reference: t.state_at(END) for t in november.in_report()}
    assert states[by_reference(november, "approved_waiting")] == "approved"  # exported on 2 December
    assert states[by_reference(november, "first_minute")] == "released"  # receipt confirmed on 2 December


# The PDF -------------------------------------------------------------------------------------------------


def pdf_words(data) -> str:
    out = io.BytesIO()
    render_period_report(data, out, code="BC-2026-11", author="Nguyễn Thị Hương — Thanh tra")
    texts, _reader = pdf_text(out.getvalue())
    return " ".join(unicodedata.normalize("NFC", "\n".join(texts)).split())


def test_the_pdf_states_the_key_figures_and_names(november):
    data = report()
    text = pdf_words(data)
    summary = november.expected_summary()
    for label, key in (
        ("Yêu cầu gửi trong kỳ", "filed"),
        ("Được phê duyệt", "approved"),
        ("Bị từ chối", "rejected"),
        ("Bị rút lại", "withdrawn"),
        ("Hết hạn (không bổ sung thông tin)", "expired"),
        ("Đã cung cấp dữ liệu", "released"),
        ("Số camera có dữ liệu được cung cấp", "cameras"),
        ("Yêu cầu của chủ thể dữ liệu (tiếp nhận tại Trung tâm)", "subject_requests"),
        ("Vùng của người khác đã được che mờ", "regions_blurred"),
    ):
        assert f"{label} {summary[key]}" in text, label
    assert f"Lần cung cấp bản che mờ / thời lượng che mờ {summary['redacted_releases']} / " in text
    turnaround = november.expected_turnaround()
    for key in ("decision_median", "release_median"):
        with translation.override("vi"):
            assert duration_text(turnaround[key] * 3600) in text, key
    # Each breakdown table's figures, row after row in the report's order.
    for rows, expected in (
        (data.by_agency, november.expected_by_agency()),
        (data.by_legal_basis, november.expected_by_basis()),
        (data.by_urgency, november.expected_by_urgency()),
    ):
        figures = " ".join(str(expected[row.label][key]) for row in rows for key in OUTCOMES)
        assert f" {figures} " in text, figures
        assert all(row.label in text for row in rows)
    names = {
        "Trần Văn Bình (pheduyet)",
        "Lê Thị Hoa (pheduyet2)",
        "Bùi Đức Long (vanhanh)",
        "Phạm Thị Lan (alice)",
        "Đỗ Văn Anh (anh)",
        "Hoàng Quốc Bảo (bao)",
        "Vũ Minh Dũng (dung)",
        "Nguyễn Thị Hương",
    }
    assert {name for name in names if name not in text} == set()
    references = {row["reference"] for row in november.expected_register()}
    references |= {row[0] for row in november.expected_late()} | {row[0] for row in november.expected_open_at_end()}
    references |= {row[0] for row in november.expected_refusals()} | {row[0] for row in november.expected_ended()}
    assert {reference for reference in references if reference not in text} == set()
    for _ref, _at, _agency, _basis, _who, _centre, reason in november.expected_refusals():
        assert reason in text
    for row in data.register_rows():
        for _name, sha256 in row.videos:
            assert sha256 in text
    # Filed after the period, or never filed: nowhere in the report.
    for key in ("after_end", "draft_kept"):
        assert by_reference(november, key) not in text


# What happens after the period ---------------------------------------------------------------------------


def test_the_report_built_again_after_later_activity_is_the_same(november):
    before = csv_members(csv_zip(report(at=local(12, 3, 8)), code="BC-2026-0001"))
    with november.tally_kept():
        play_more_after_the_period(november)
        # It all happened: the request that fell due in November is decided, the hold lifted, the question answered.
        assert FootageRequest.objects.get(reference=by_reference(november, "open_review_overdue")).status == Status.APPROVED
        assert FootageRequest.objects.get(reference=by_reference(november, "needs_info_open")).status == Status.SUBMITTED
        assert FootageRequest.objects.get(reference=by_reference(november, "two_approvers")).status == Status.CLOSED
        data = report(at=local(12, 4, 9))
        after = csv_members(csv_zip(data, code="BC-2026-0002"))
        # The tally, which knows what happened in December too, still says the same of November.
        assert [row[3] for row in november.expected_late()] == [row.decided_at for row in data.turnaround["late"]]
    assert before.keys() == after.keys()
    assert {name for name in before if before[name] != after[name]} == {"00_pham_vi.csv"}

    def scope_rows(raw):
        return {row["muc"]: row["gia_tri"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}

    first, second = scope_rows(before["00_pham_vi.csv"]), scope_rows(after["00_pham_vi.csv"])
    assert {key for key in first if first[key] != second[key]} == {"ma_bao_cao", "lap_luc"}
    assert (second["ma_bao_cao"], second["lap_luc"]) == ("BC-2026-0002", "2026-12-04T09:00:00+07:00")
