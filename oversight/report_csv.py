"""Every table of the period report as CSV, in one zip: UTF-8 with a byte-order mark so spreadsheet programs read Vietnamese."""

import csv
import io
import tempfile
import zipfile

from django.utils import timezone

from oversight.report_data import PATTERN_TITLES, WEEK_SERIES

OUTCOME_COLUMNS = ["gui", "phe_duyet", "tu_choi", "rut_lai", "het_han", "da_cung_cap"]
OUTCOME_KEYS = ["filed", "approved", "rejected", "withdrawn", "expired", "released"]


def _iso(moment):
    # The centre's time zone (the default one; `localtime` would look up the active one for each of a hundred
    # thousand cells).
    return moment.astimezone(timezone.get_default_timezone()).isoformat(timespec="seconds") if moment else ""


def _hours(value):
    return "" if value is None else f"{value:.2f}"


def _minutes(hours):
    # Turnaround and lateness in whole minutes, the unit named in the column: "0.30" hours read as 30 minutes.
    return "" if hours is None else str(round(hours * 60))


# A spreadsheet takes a cell that starts with one of these as a formula: typed text (a case number, a
# reason) must never run in an inspector's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        self.writer.writerow([_cell(value) for value in row])


class _Sheet:
    """One CSV member of the zip, written row by row."""

    def __init__(self, archive, name):
        self.stream = archive.open(name, "w", force_zip64=True)
        self.text = io.TextIOWrapper(self.stream, encoding="utf-8-sig", newline="")
        self.writer = _SafeWriter(csv.writer(self.text))

    def __enter__(self):
        return self.writer

    def __exit__(self, *exc):
        self.text.flush()
        self.text.detach()
        self.stream.close()


def write_report_csv(data, out, *, code):
    """Write the zip of CSVs to the binary file `out`."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        scope = data.scope
        with _Sheet(archive, "00_pham_vi.csv") as sheet:
            sheet.writerow(["muc", "gia_tri"])
            sheet.writerow(["ma_bao_cao", code])
            sheet.writerow(["tu_ngay", scope.date_from.isoformat()])
            sheet.writerow(["den_ngay", scope.date_to.isoformat()])
            sheet.writerow(["co_quan", scope.agency.code if scope.agency else ""])
            sheet.writerow(["dia_ban", scope.area.path if scope.area else ""])
            sheet.writerow(["can_cu", scope.legal_basis.code if scope.legal_basis else ""])
            sheet.writerow(["tham_quyen", scope.jurisdiction.path if scope.jurisdiction else ""])
            sheet.writerow(["lap_luc", _iso(data.generated_at)])
            # Equal to the period's end once the period is over; earlier only for a period still running.
            sheet.writerow(["so_lieu_tinh_den", _iso(scope.end)])
            sheet.writerow(["ky_chua_ket_thuc", int(scope.unfinished)])
        with _Sheet(archive, "01_tong_hop.csv") as sheet:
            sheet.writerow(["chi_so", "gia_tri"])
            for key, value in data.summary.items():
                sheet.writerow([key, f"{value:.2f}" if isinstance(value, float) else value])
        for name, rows, label in (
            ("02_theo_co_quan.csv", data.by_agency, "co_quan"),
            ("03_theo_can_cu.csv", data.by_legal_basis, "can_cu"),
            ("04_theo_muc_do.csv", data.by_urgency, "muc_do"),
            ("04b_theo_dia_ban_camera.csv", data.by_camera_area, "dia_ban_camera"),
        ):
            with _Sheet(archive, name) as sheet:
                sheet.writerow([label, *OUTCOME_COLUMNS])
                for row in rows:
                    sheet.writerow([row.label, *(row.counts[key] for key in OUTCOME_KEYS)])
        with _Sheet(archive, "05_theo_loai_du_lieu.csv") as sheet:
            sheet.writerow(["loai_du_lieu", "yeu_cau_gui", "hang_muc_gui", "hang_muc_da_cung_cap", "gio_da_cung_cap"])
            for row in data.by_category:
                sheet.writerow([row.label, row.requests_filed, row.items_filed, row.released_items, _hours(row.released_hours)])
        with _Sheet(archive, "06_theo_tuan.csv") as sheet:
            sheet.writerow(["tuan_bat_dau", *(key for key, _label, _statuses in WEEK_SERIES)])
            for start, counts in data.weekly:
                sheet.writerow([start.isoformat(), *(counts[key] for key, _label, _statuses in WEEK_SERIES)])
        t = data.turnaround
        with _Sheet(archive, "07_thoi_gian_xu_ly.csv") as sheet:
            sheet.writerow(["chi_so", "gia_tri"])
            for key in ("decisions", "decision_median", "decision_p90", "releases", "release_median", "release_p90"):
                if key in ("decisions", "releases"):
                    sheet.writerow([key, t[key]])
                else:
                    sheet.writerow([f"{key}_phut", _minutes(t[key])])
        with _Sheet(archive, "08_qua_han.csv") as sheet:
            sheet.writerow(
                [
                    "so_yeu_cau",
                    "co_quan",
                    "can_cu",
                    "muc_do",
                    "gui_lan_dau",
                    "han_xu_ly",
                    "quyet_dinh_luc",
                    "qua_han_phut",
                    "xu_ly_sau_han_luc",
                    "xu_ly_sau_han",
                ]
            )
            for r in t["late"]:
                sheet.writerow(
                    [
                        r.reference,
                        r.agency,
                        r.legal_basis,
                        r.urgency,
                        _iso(r.submitted_at),
                        _iso(r.due_at),
                        _iso(r.decided_at),
                        _minutes(r.hours_late),
                        _iso(r.acted_at),
                        r.acted,
                    ]
                )
        with _Sheet(archive, "08b_mo_cuoi_ky.csv") as sheet:
            sheet.writerow(
                ["so_yeu_cau", "co_quan", "can_cu", "muc_do", "gui_lan_dau", "trang_thai_cuoi_ky", "han_xu_ly", "qua_han_phut"]
            )
            for r in data.open_at_end:
                sheet.writerow(
                    [
                        r.reference,
                        r.agency,
                        r.legal_basis,
                        r.urgency,
                        _iso(r.first_filed_at),
                        r.state,
                        _iso(r.due_at),
                        _minutes(r.hours_overdue),
                    ]
                )
        # A zip takes one member at a time: the file list waits in a spooled file while the register is written.
        with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8", newline="") as spool:
            _write_register(archive, data, _SafeWriter(csv.writer(spool)))
            spool.seek(0)
            with archive.open("10_so_theo_doi_tep.csv", "w", force_zip64=True) as member:
                member.write("\ufeffso_yeu_cau,loai,tep,sha256\r\n".encode())
                while block := spool.read(1 << 20):
                    member.write(block.encode())
        with _Sheet(archive, "11_tu_choi.csv") as sheet:
            sheet.writerow(["so_yeu_cau", "thoi_diem", "co_quan", "can_cu", "nguoi_tu_choi", "co_quan_tu_choi", "ly_do"])
            for r in data.refusals:
                sheet.writerow(
                    [r.reference, _iso(r.decided_at), r.agency, r.legal_basis, r.official, r.official_agency, r.reason]
                )
        with _Sheet(archive, "11b_rut_lai_het_han.csv") as sheet:
            sheet.writerow(["so_yeu_cau", "co_quan", "can_cu", "ket_qua", "gui_lan_dau", "thoi_diem", "nguoi_thuc_hien", "ly_do"])
            for r in data.ended:
                sheet.writerow(
                    [r.reference, r.agency, r.legal_basis, r.outcome, _iso(r.first_filed_at), _iso(r.ended_at), r.by, r.reason]
                )
        with _Sheet(archive, "11c_thu_hep_pham_vi.csv") as sheet:
            sheet.writerow(["so_yeu_cau", "co_quan", "thu_hep_luc", "nguoi_thu_hep", "pham_vi_de_nghi", "pham_vi_phe_duyet"])
            for r in data.narrowed:
                requested = "không được ghi lại" if r.requested is None else _windows(r.requested)
                approved = "không được ghi lại" if r.approved is None else _windows(r.approved)
                sheet.writerow([r.reference, r.agency, _iso(r.narrowed_at), r.by, requested, approved])
        with _Sheet(archive, "11d_luu_giu.csv") as sheet:
            sheet.writerow(["so_yeu_cau", "co_quan", "dat_luc", "nguoi_dat", "ly_do", "so_doan_luu", "go_luc", "nguoi_go"])
            for r in data.holds:
                sheet.writerow(
                    [
                        r.reference,
                        r.agency,
                        _iso(r.placed_at),
                        r.placed_by,
                        r.reason,
                        "đang sao lưu cuối kỳ" if r.segments_held is None else r.segments_held,
                        _iso(r.lifted_at) or "còn hiệu lực cuối kỳ",
                        r.lifted_by,
                    ]
                )
        with _Sheet(archive, "11e_hoat_dong.csv") as sheet:
            sheet.writerow(
                [
                    "thoi_diem",
                    "so_yeu_cau",
                    "hanh_dong",
                    "ma_hanh_dong",
                    "nguoi_thuc_hien",
                    "co_quan",
                    "bi_tu_choi",
                    "chi_tiet",
                    "tep_da_tai",
                    "su_kien",
                ]
            )
            for r in data.activity:
                sheet.writerow(
                    [_iso(r.at), r.reference, r.label, r.action, r.who, r.agency, int(r.refused), r.detail, r.file, r.seq]
                )
        with _Sheet(archive, "12_dau_hieu.csv") as sheet:
            sheet.writerow(["loai", "mo_ta_loai", "doi_tuong", "so_yeu_cau", "chi_tiet"])
            for kind, title in PATTERN_TITLES.items():
                for finding in data.patterns[kind]:
                    sheet.writerow([kind, title, finding.subject, finding.reference, finding.detail])
        i = data.integrity
        covering = i.covering_checkpoint
        with _Sheet(archive, "13_toan_ven_nhat_ky.csv") as sheet:
            sheet.writerow(["chi_so", "gia_tri"])
            sheet.writerow(["pham_vi_kiem_tra", "toan_he_thong"])
            sheet.writerow(["so_su_kien", i.events])
            sheet.writerow(["so_su_kien_thuoc_pham_vi_bao_cao", i.scoped_events])
            sheet.writerow(["ket_qua", "" if i.ok is None else ("toan_ven" if i.ok else "sai_lech")])
            sheet.writerow(["sai_lech", i.problem])
            sheet.writerow(["su_kien_dau", i.first_seq or ""])
            sheet.writerow(["bam_su_kien_dau", i.first_hash])
            sheet.writerow(["su_kien_cuoi", i.last_seq or ""])
            sheet.writerow(["bam_su_kien_cuoi", i.last_hash])
            sheet.writerow(["diem_kiem_tra_bao_trum", covering.seq if covering else "khong_co"])
            sheet.writerow(["bam_diem_kiem_tra", covering.hash if covering else ""])
            sheet.writerow(["chu_ky_diem_kiem_tra", covering.signature if covering else ""])
            sheet.writerow(["khoa_ky_diem_kiem_tra", covering.key_id if covering else ""])
        _write_facts(archive, data)


def _windows(windows):
    return "; ".join(f"{code} {_iso(start)}/{_iso(end)}" for code, start, end in windows)


FACT_FLAGS = ("filed", "approved", "rejected", "withdrawn", "expired", "released")


def _write_facts(archive, data):
    """The requests behind every count: one row per request, a 1 in each count it adds to."""
    with _Sheet(archive, "14_yeu_cau_theo_chi_so.csv") as sheet:
        sheet.writerow(
            [
                "so_yeu_cau",
                "co_quan",
                "ma_co_quan",
                "can_cu",
                "muc_do",
                "dia_ban_camera",
                "gui_lan_dau",
                "han_xu_ly",
                "quyet_dinh_luc",
                "cung_cap_luc",
                "trang_thai_cuoi_ky",
                *OUTCOME_COLUMNS,
                "qua_han_trong_ky",
                "mo_cuoi_ky",
                "qua_han_cuoi_ky",
                "thu_hep",
            ]
        )
        for f in data.facts:
            counts = f.counts
            sheet.writerow(
                [
                    f.reference,
                    f.agency,
                    f.agency_code,
                    f.legal_basis,
                    f.urgency,
                    "; ".join(f.camera_areas),
                    _iso(f.first_filed_at),
                    _iso(f.due_at),
                    _iso(f.decided_at),
                    _iso(f.released_at),
                    f.state_at_end,
                    *(counts[key] for key in FACT_FLAGS),
                    int(f.late),
                    int(f.open_at_end),
                    int(f.overdue_at_end),
                    int(f.narrowed),
                ]
            )


def _write_register(archive, data, files):
    with _Sheet(archive, "09_so_theo_doi.csv") as register:
        register.writerow(
            [
                "so_yeu_cau",
                "cung_cap_luc",
                "co_quan",
                "can_cu",
                "so_vu_viec",
                "nguoi_phe_duyet",
                "nguoi_trich_xuat",
                "nguoi_nhan",
                "camera_va_thoi_gian",
                "so_tep_video",
                "luot_tai_den_cuoi_ky",
            ]
        )
        for row in data.register_rows():
            windows = "; ".join(f"{code} {_iso(start)}/{_iso(end)}" for code, start, end in row.windows)
            register.writerow(
                [
                    row.reference,
                    _iso(row.released_at),
                    row.agency,
                    row.legal_basis,
                    row.case_reference,
                    "; ".join(row.approvers),
                    row.custodian,
                    "; ".join(row.recipients),
                    windows,
                    len(row.videos),
                    row.downloads,
                ]
            )
            for kind, name, sha256 in row.files:
                files.writerow([row.reference, kind, name, sha256])
