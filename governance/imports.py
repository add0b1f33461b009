"""Bulk import of cameras from a CSV file: all rows are checked first, then all are written, or none.

The file is UTF-8 (with or without a byte order mark) with a header row naming
the columns in any order. The columns are separated by commas, semicolons (what
Excel writes on Windows set to Vietnamese, where the comma is the decimal
mark) or tabs: the separator is the one the header row uses most outside
quoted text (on a tie, the first of comma, semicolon, tab); a header row with
none of them is refused, unless it names a single known column. A file in
another encoding (Excel's plain "CSV" is Windows-1258 on Vietnamese Windows)
is refused with a hint to save it as "CSV UTF-8 (Comma delimited)".
`camera_import_template` gives a file to start from: semicolon-separated, with
a byte order mark so that Excel shows the Vietnamese letters, and two example
rows in the demo's areas. Each column may also be headed by its Vietnamese
name (HEADINGS_VI):

=====================  ========  =====================================================
column                 required  value
=====================  ========  =====================================================
code                   yes       camera code, at most 40 characters: Latin letters, digits,
                                 '-' and '_'; unique in the file; a camera with this code is
                                 updated, otherwise created
name                   yes       at most 200 characters
kind                   yes       ptz, fixed, anpr or face, or the Vietnamese name of the kind
                                 ("Cố định", "quay quét", "biển số", "khuôn mặt", ...)
area_code              yes       code of an existing area (province, district or ward)
managing_agency_code   yes       code of an existing agency
address                no        at most 255 characters
latitude               no        decimal degrees, -90 to 90 (given together with longitude)
longitude              no        decimal degrees, -180 to 180 (given together with latitude)
has_video              no        1/0, true/false, yes/no, có/không (default: yes)
has_plate_events       no        same values (default: no)
has_face_events        no        same values (default: no)
retention_days         no        whole number of days, 1 to 3650 (default: 30)
status                 no        active, maintenance, offline or decommissioned, or the Vietnamese
                                 name ("Đang hoạt động", "bảo trì", ...) (default: active)
source_url             no        rtsp://, rtsps://, http(s)://, onvif://, nvr:// or file://
                                 address, never with a user name or password in it
credential_ref         no        name of the stored secret holding the credentials, at most
                                 120 characters
site_code              no        code of an existing recorder site holding the camera's
                                 recordings (default: none, the default queue's workers)
=====================  ========  =====================================================

An empty cell in an optional column means the default (no address, no
coordinates, ...). An optional column left out of the header entirely leaves
that field of existing cameras as it is and gives new cameras the default.
The kind and status names are compared without regard to case, diacritics
and extra spaces ("hoat dong" is "Đang hoạt động"), in Vietnamese or English.
Blank lines are skipped. Line numbers in error messages are the lines of the
file as a text editor shows them, the header being line 1.
"""

import csv
import hashlib
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit import record_event
from audit.models import Action
from governance.models import Agency, Area, Camera, RecorderSite, User

REQUIRED_COLUMNS = ("code", "name", "kind", "area_code", "managing_agency_code")
OPTIONAL_COLUMNS = (
    "address",
    "latitude",
    "longitude",
    "has_video",
    "has_plate_events",
    "has_face_events",
    "retention_days",
    "status",
    "source_url",
    "credential_ref",
    "site_code",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Column → model field written for it.
FIELD_FOR_COLUMN = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "area_code": "area_id",
    "managing_agency_code": "managing_agency_id",
    "address": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "has_video": "has_video",
    "has_plate_events": "has_plate_events",
    "has_face_events": "has_face_events",
    "retention_days": "retention_days",
    "status": "status",
    "source_url": "source_url",
    "credential_ref": "credential_ref",
    "site_code": "site_id",
}

TRUE_WORDS = frozenset({"1", "true", "yes", "có", "co", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "không", "khong", "n"})

# The separators a header row may use, in the order that settles a tie.
DELIMITERS = (",", ";", "\t")
# Far more than any header row: an unclosed quote must not make the search read the whole file.
HEADER_SCAN_LIMIT = 64 * 1024

# A Vietnamese heading accepted for each column (compared folded, as `fold` does).
HEADINGS_VI = {
    "code": "mã camera",
    "name": "tên camera",
    "kind": "loại camera",
    "area_code": "mã địa bàn",
    "managing_agency_code": "mã đơn vị quản lý",
    "address": "địa chỉ",
    "latitude": "vĩ độ",
    "longitude": "kinh độ",
    "has_video": "có video",
    "has_plate_events": "có sự kiện biển số",
    "has_face_events": "có sự kiện khuôn mặt",
    "retention_days": "số ngày lưu",
    "status": "trạng thái",
    "source_url": "địa chỉ nguồn",
    "credential_ref": "tên khóa truy cập",
    "site_code": "mã điểm lưu trữ",
}

# Short Vietnamese names people write for a kind or status, besides the labels of the choices
# (which are accepted in Vietnamese and in English, with and without the part in brackets).
CHOICE_WORDS_VI = {
    "kind": {
        "quay quét": Camera.Kind.PTZ,
        "camera quay quét": Camera.Kind.PTZ,
        "biển số": Camera.Kind.ANPR,
        "nhận dạng biển số": Camera.Kind.ANPR,
        "khuôn mặt": Camera.Kind.FACE,
    },
    "status": {
        "hoạt động": Camera.Status.ACTIVE,
        "bảo trì": Camera.Status.MAINTENANCE,
        "ngoại tuyến": Camera.Status.OFFLINE,
        "ngừng hoạt động": Camera.Status.DECOMMISSIONED,
    },
}
CHOICE_FIELD = {"kind": "kind", "status": "status"}
BRACKETED = re.compile(r"\s*\([^)]*\)")

BATCH_SIZE = 1000
# Control characters (NUL and the like) have no place in a cell; tabs and line breaks may stand in quoted text.
# Nor have the invisible ones that reorder or hide text on a page (bidirectional overrides and isolates, zero-width
# characters, line and paragraph separators, a byte order mark inside the text).
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# An unknown column is named back in an error at this length at most.
NAME_SHOWN = 60


class CameraImportError(ValidationError):
    """The file was refused; `errors` lists every problem as (line number or None, message)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__([format_import_error(line, message) for line, message in self.errors])


def format_import_error(line: int | None, message: str) -> str:
    if line is None:
        return message
    return _("line %(line)s: %(message)s") % {"line": line, "message": message}


def fold(value: str) -> str:
    """`value` compared loosely: lower case, no diacritics (đ read as d), single spaces."""
    text = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.lower().split())


COLUMN_FOR_HEADING = {fold(heading): column for column, heading in HEADINGS_VI.items()}


def choice_values(column: str) -> dict[str, str]:
    """{folded code or name: code} for the kind or status column: codes, Vietnamese and English labels, short names."""
    field = Camera._meta.get_field(CHOICE_FIELD[column])
    values = {fold(code): code for code, _label in field.choices}
    for language in ("vi", "en"):
        with translation.override(language):
            for code, label in field.choices:
                values.setdefault(fold(str(label)), code)
                values.setdefault(fold(BRACKETED.sub("", str(label))), code)
    for word, code in CHOICE_WORDS_VI[column].items():
        values.setdefault(fold(word), str(code))
    return values


def choices_text(column: str) -> str:
    """The accepted values of the kind or status column as a reader sees them: each code with its label."""
    field = Camera._meta.get_field(CHOICE_FIELD[column])
    return ", ".join(f"{code} / {label}" for code, label in field.choices)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    rows: int
    sha256: str
    filename: str


def camera_import_csv(*, actor: User | None, file: IO[bytes] | IO[str], http_request: HttpRequest | None = None) -> ImportResult:
    """Create or update (by code) every camera of a CSV file in one transaction, or refuse the whole file."""
    raw = _read_limited(file)
    filename = os.path.basename(getattr(file, "name", "") or "")
    sha256 = hashlib.sha256(raw).hexdigest()
    columns, records = _parse(raw)

    with transaction.atomic():
        areas = dict(Area.objects.values_list("code", "pk"))
        agencies = dict(Agency.objects.values_list("code", "pk"))
        sites = dict(RecorderSite.objects.values_list("code", "pk"))
        values_by_code, errors = _validate(columns, records, areas=areas, agencies=agencies, sites=sites)
        if errors:
            raise CameraImportError(errors)

        fields = [FIELD_FOR_COLUMN[c] for c in columns if c != "code"]
        existing = _existing_cameras(set(values_by_code), fields)
        now = timezone.now()
        to_create, to_update = [], []
        for code, values in values_by_code.items():
            current = existing.get(code)
            if current is None:
                to_create.append(Camera(code=code, updated_at=now, **values))
            elif any(current[name] != values[name] for name in fields):
                to_update.append(Camera(pk=current["pk"], updated_at=now, **values))

        Camera.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        _bulk_update(to_update, [*fields, "updated_at"])

        result = ImportResult(
            created=len(to_create),
            updated=len(to_update),
            unchanged=len(values_by_code) - len(to_create) - len(to_update),
            rows=len(values_by_code),
            sha256=sha256,
            filename=filename,
        )
        record_event(
            actor=actor,
            action=Action.CAMERA_IMPORT,
            data={
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rows": result.rows,
                "sha256": sha256,
                "filename": filename,
            },
            http_request=http_request,
        )
    return result


# Reading the file -------------------------------------------------------------


def _read_limited(file):
    """The file's bytes; refuses a file over the configured size without reading all of it."""
    limit = settings.CAMERA_IMPORT_MAX_BYTES
    too_large = CameraImportError(
        [(None, _("The file is larger than the limit of %(limit)s bytes; split it into several files.") % {"limit": limit})]
    )
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise too_large
    if hasattr(file, "seek"):
        try:
            file.seek(0)
        except (OSError, ValueError):
            pass  # a pipe or stream: read from where it stands
    data = file.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise too_large
    return data


def _parse(raw):
    """(columns, [(line number, {column: value})]) from the file's bytes; refuses encoding and header problems."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CameraImportError(
            [
                (
                    line,
                    _(
                        "The file is not UTF-8 text. In Excel, choose File › Save As, save it as "
                        "“CSV UTF-8 (Comma delimited) (*.csv)” and upload that file again."
                    ),
                )
            ]
        ) from None
    if not text.strip():
        raise CameraImportError([(None, _("The file is empty."))])

    # Blank lines are skipped, those before the header too; line numbers stay those of the file.
    stripped = text.lstrip("\r\n")
    skipped = len(re.findall(r"\r\n|\r|\n", text[: len(text) - len(stripped)]))
    header_line = skipped + 1
    delimiter = _delimiter(stripped, header_line)
    reader = csv.reader(io.StringIO(stripped, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CameraImportError([(header_line, _("The header row cannot be read: %(reason)s.") % {"reason": exc})]) from None
    columns = [_column(name) for name in header]
    header_errors = []
    if any(CONTROL_CHARACTER.search(name) for name in header):
        raise CameraImportError([(header_line, _("The header row holds a control character (such as a NUL byte); remove it."))])
    unnamed = [str(position) for position, name in enumerate(columns, start=1) if not name]
    if unnamed:
        header_errors.append(
            (header_line, _("Columns without a name at positions: %(positions)s.") % {"positions": ", ".join(unnamed)})
        )
    unknown = [c for c in columns if c and c not in COLUMNS]
    if unknown:
        header_errors.append(
            (
                1,
                _("Unknown columns: %(columns)s. Allowed columns: %(allowed)s.")
                % {
                    "columns": ", ".join(c if len(c) <= NAME_SHOWN else c[: NAME_SHOWN - 1] + "…" for c in unknown),
                    "allowed": ", ".join(COLUMNS),
                },
            )
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        header_errors.append((header_line, _("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)}))
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        header_errors.append((header_line, _("Columns named more than once: %(columns)s.") % {"columns": ", ".join(repeated)}))
    if ("latitude" in columns) != ("longitude" in columns):
        header_errors.append((header_line, _("The columns latitude and longitude go together: give both or neither.")))
    if header_errors:
        raise CameraImportError(header_errors)

    records, errors = [], []
    last_line = reader.line_num + skipped
    try:
        for cells in reader:
            # A quoted cell may run over several lines: report where the record starts.
            line, last_line = last_line + 1, reader.line_num + skipped
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                errors.append(
                    (
                        line,
                        _("This row has %(found)s cells but the header names %(expected)s columns.")
                        % {"found": len(cells), "expected": len(columns)},
                    )
                )
                continue
            controlled = [column for column, cell in zip(columns, cells, strict=True) if CONTROL_CHARACTER.search(cell)]
            if controlled:
                errors.append(
                    (
                        line,
                        _("The cells of %(columns)s hold a control character (such as a NUL byte); remove it.")
                        % {"columns": ", ".join(controlled)},
                    )
                )
                continue
            records.append((line, dict(zip(columns, (_clean(cell) for cell in cells), strict=True))))
    except csv.Error as exc:
        errors.append((last_line + 1, _("This row cannot be read: %(reason)s.") % {"reason": exc}))
    if errors:
        raise CameraImportError(errors)
    if not records:
        raise CameraImportError([(None, _("The file has a header row but no cameras."))])
    return columns, records


def _clean(value):
    # Files saved on macOS may carry decomposed diacritics; store the composed form.
    return unicodedata.normalize("NFC", value).strip()


def _column(heading):
    """The column a header cell names: its code, or the code of its Vietnamese heading."""
    name = _clean(heading).lower()
    return name if name in COLUMNS else COLUMN_FOR_HEADING.get(fold(name), name)


def _delimiter(text, line=1):
    """The separator of the file: the one of DELIMITERS the header row (file line `line`) uses most outside quoted
    text."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text[:HEADER_SCAN_LIMIT]:
        if char == '"':
            quoted = not quoted  # a doubled quote inside quoted text flips twice
        elif quoted:
            continue
        elif char in "\r\n":
            break
        elif char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)  # the first of the highest counts
    if counts[best]:
        return best
    # No separator: a header of one column (the missing ones are named below), or another separator.
    header = (text[:HEADER_SCAN_LIMIT].splitlines() or [""])[0]
    if not header.strip() or _column(header.strip('"')) in COLUMNS:
        return ","
    raise CameraImportError(
        [
            (
                line,
                _(
                    "The columns of the header row are not separated by commas (,), semicolons (;) or tabs. "
                    "Save the file as CSV with one of these separators."
                ),
            )
        ]
    )


# Checking rows ----------------------------------------------------------------
#
# Here the cells are read into field values (yes/no words, a decimal comma,
# lower-case choices, the codes of areas and agencies); whether a value is
# allowed is the Camera model's to say: each value goes through its model
# field's own clean() (length, choices, validators), as in the admin. Area and
# agency codes are looked up in the codes loaded once per file, and existing
# cameras in one query when writing: nothing is asked of the database row by
# row. Not full_clean() on a Camera per row: it checks the same at several
# times the cost (at 40,000 rows, seconds), and would look up each area and
# agency and each code's uniqueness one row at a time.

# The columns whose values the model's fields check (the foreign keys are named by code and looked up in bulk).
MODEL_FIELD = {
    column: Camera._meta.get_field(attname)
    for column, attname in FIELD_FOR_COLUMN.items()
    if column not in ("area_code", "managing_agency_code", "site_code")
}


def _validate(columns, records, *, areas, agencies, sites=None):
    """({code: field values}, [(line, message)]) for every record."""
    present = set(columns)
    order = {column: n for n, column in enumerate(COLUMNS)}
    checked = [column for column in COLUMNS if column in MODEL_FIELD and column in present]
    # A field's checks depend on the value alone, and most columns repeat their values from row to row
    # (kind, status, yes/no, retention): each value that passed is not checked again.
    passed = {column: set() for column in checked}
    kinds, statuses = choice_values("kind"), choice_values("status")
    values_by_code, first_line_of_code, errors = {}, {}, []
    for line, record in records:
        row_errors = []

        def problem(column, message, row_errors=row_errors):
            row_errors.append((column, message))

        code = record["code"]
        if code in first_line_of_code:
            problem(
                "code",
                _("The camera code %(code)s already appears on line %(line)s.")
                % {"code": code, "line": first_line_of_code[code]},
            )
        values = {
            "name": record["name"],
            "kind": _choice(record["kind"], kinds),
            "area_id": _reference(record, "area_code", areas, problem),
            "managing_agency_id": _reference(record, "managing_agency_code", agencies, problem),
        }
        for column in ("address", "source_url", "credential_ref"):
            if column in present:
                values[column] = record[column]
        if "latitude" in present:
            values["latitude"] = _coordinate(record, "latitude", problem)
            values["longitude"] = _coordinate(record, "longitude", problem)
            if bool(record["latitude"]) != bool(record["longitude"]):
                problem("latitude", _("Give both latitude and longitude, or neither."))
        for column, default in (("has_video", True), ("has_plate_events", False), ("has_face_events", False)):
            if column in present:
                values[column] = _boolean(record, column, default, problem)
        if "retention_days" in present:
            values["retention_days"] = _retention(record, problem)
        if "status" in present:
            values["status"] = _choice(record["status"], statuses) or Camera.Status.ACTIVE
        if "site_code" in present:
            values["site_id"] = None
            if record["site_code"]:
                values["site_id"] = (sites or {}).get(record["site_code"])
                if values["site_id"] is None:
                    problem("site_code", _("No recorder site has the code %(code)s.") % {"code": record["site_code"]})

        # A column already refused above is not checked again.
        refused = {column for column, _message in row_errors}
        for column in checked:
            field = MODEL_FIELD[column]
            value = code if column == "code" else values[field.attname]
            if column in refused or value in passed[column]:
                continue
            try:
                field.clean(value, None)
            except ValidationError as error:
                problem(column, _refusal(column, error.error_list[0], record[column]))
            else:
                passed[column].add(value)

        if code and code not in first_line_of_code:
            first_line_of_code[code] = line
        if row_errors:
            row_errors.sort(key=lambda error: order[error[0]])  # in the order of the columns, as the row reads
            errors.extend((line, message) for _column, message in row_errors)
        else:
            values_by_code[code] = values
    return values_by_code, errors


def _refusal(column, error, value):
    """The model's refusal of one cell, in the import's own words where it has them (they name the column)."""
    field = MODEL_FIELD[column]
    params = error.params or {}
    if error.code == "blank":
        return _("The column %(column)s is empty.") % {"column": column}
    if error.code == "max_length":
        return _("The value of %(column)s is longer than %(limit)s characters (%(length)s).") % {
            "column": column,
            "limit": params["limit_value"],
            "length": params["show_value"],
        }
    if error.code == "invalid_choice":
        return _("%(value)s is not a valid %(column)s; use one of: %(choices)s.") % {
            "value": value,
            "column": column,
            "choices": choices_text(column),
        }
    if error.code == "camera_code":
        return _("The camera code %(code)s holds characters other than Latin letters, digits, '-' and '_'.") % {"code": value}
    if error.code in ("min_value", "max_value"):
        _low, high = _bounds(field)
        if isinstance(field, models.DecimalField):
            return _("The %(column)s %(value)s is outside -%(bound)s to %(bound)s.") % {
                "column": column,
                "value": value,
                "bound": high,
            }
        return _retention_refusal(value)
    return " ".join(error.messages)


def _choice(value, accepted):
    """The code a kind or status cell names; a value naming none is left for the model to refuse."""
    return accepted.get(fold(value), value.lower())


def _bounds(field):
    """The lowest and highest value a numeric model field's validators allow."""
    low = max((v.limit_value for v in field.validators if isinstance(v, MinValueValidator)), default=None)
    high = min((v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)), default=None)
    return low, high


def _retention_refusal(value):
    low, high = _bounds(Camera._meta.get_field("retention_days"))
    return _("The retention_days %(value)s must be a whole number from %(min)s to %(max)s.") % {
        "value": value,
        "min": low,
        "max": high,
    }


def _reference(record, column, known, problem):
    value = record[column]
    if not value:
        problem(column, _("The column %(column)s is empty.") % {"column": column})
        return None
    if value not in known:
        if column == "area_code":
            problem(column, _("No area has the code %(code)s.") % {"code": value})
        else:
            problem(column, _("No agency has the code %(code)s.") % {"code": value})
        return None
    return known[value]


def _coordinate(record, column, problem):
    value = record[column]
    if not value:
        return None
    # A decimal comma is what Vietnamese spreadsheets write.
    text = value.replace(",", ".") if "." not in value else value
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problem(column, _("The %(column)s %(value)s is not a number.") % {"column": column, "value": value})
        return None
    # Within range or not (the model says), it is stored to the places of its column.
    places = Decimal(1).scaleb(-MODEL_FIELD[column].decimal_places)
    try:
        return number.quantize(places, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # too many digits to hold at all: far out of any range
        return number


def _boolean(record, column, default, problem):
    value = record[column].lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    problem(
        column,
        _("%(value)s is not a yes/no value for %(column)s; use 1/0, true/false, yes/no or có/không.")
        % {"value": record[column], "column": column},
    )
    return default


def _retention(record, problem):
    value = record["retention_days"]
    if not value:
        return Camera._meta.get_field("retention_days").default
    try:
        return int(value)
    except ValueError:
        problem("retention_days", _retention_refusal(value))
        return None


# The template and the guide to the columns -----------------------------------------

# Two cameras in the demo's areas (governance/demo.py), one written with Vietnamese names and one with the codes.
TEMPLATE_ROWS = (
    {
        "code": "HK-HB-901",
        "name": "Ngã tư Hàng Bạc – Mã Mây",
        "kind": "Cố định",
        "area_code": "hn-hk-hang-bac",
        "managing_agency_code": "ioc-hk",
        "address": "Số 2 Hàng Bạc, phường Hàng Bạc, Hoàn Kiếm, Hà Nội",
        "latitude": "21,034210",
        "longitude": "105,852710",
        "has_video": "có",
        "has_plate_events": "không",
        "has_face_events": "không",
        "retention_days": "30",
        "status": "Đang hoạt động",
        "source_url": "nvr://ioc-hk/hb-901",
        "credential_ref": "nvr-hk-readonly",
        "site_code": "",
    },
    {
        "code": "HK-HD-902",
        "name": "Ngã tư Hàng Đào – Cầu Gỗ",
        "kind": "anpr",
        "area_code": "hn-hk-hang-dao",
        "managing_agency_code": "ioc-hk",
        "address": "",
        "latitude": "",
        "longitude": "",
        "has_video": "1",
        "has_plate_events": "1",
        "has_face_events": "0",
        "retention_days": "90",
        "status": "maintenance",
        "source_url": "rtsp://10.20.2.12:554/Streaming/Channels/101",
        "credential_ref": "nvr-hk-readonly",
        "site_code": "",
    },
)


def camera_import_template() -> bytes:
    """A CSV file to fill in: every column, two example rows; semicolons and a byte order mark, as Excel in Vietnamese reads it."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in TEMPLATE_ROWS:
        writer.writerow([row[column] for column in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _column_help():
    retention = Camera._meta.get_field("retention_days")
    low, high = _bounds(retention)
    yes_no = _("có/không, 1/0, yes/no or true/false")
    return {
        "code": _(
            "At most 40 Latin letters, digits, '-' and '_', each code once in the file. "
            "A camera with this code is updated, otherwise it is created."
        ),
        "name": _("At most 200 characters."),
        "kind": _("One of (code / name): %(choices)s.") % {"choices": choices_text("kind")},
        "area_code": _("Code of an existing area (province, district or ward), such as %(example)s.")
        % {"example": "hn-hk-hang-bac"},
        "managing_agency_code": _("Code of an existing agency, such as %(example)s.") % {"example": "ioc-hk"},
        "address": _("At most 255 characters."),
        "latitude": _("Decimal degrees from -90 to 90, with a point or a decimal comma; given together with longitude."),
        "longitude": _("Decimal degrees from -180 to 180, with a point or a decimal comma; given together with latitude."),
        "has_video": _("%(values)s; empty means yes.") % {"values": yes_no},
        "has_plate_events": _("%(values)s; empty means no.") % {"values": yes_no},
        "has_face_events": _("%(values)s; empty means no.") % {"values": yes_no},
        "retention_days": _("A whole number of days from %(min)s to %(max)s; empty means %(default)s.")
        % {"min": low, "max": high, "default": retention.default},
        "status": _("One of (code / name): %(choices)s. Empty means %(default)s.")
        % {"choices": choices_text("status"), "default": Camera.Status.ACTIVE.label},
        "source_url": _(
            "An rtsp://, rtsps://, http(s)://, onvif://, nvr:// or file:// address, never with a user name or password in it."
        ),
        "credential_ref": _("Name of the stored secret holding the credentials, at most 120 characters."),
        "site_code": _(
            "Code of an existing recorder site holding the camera's recordings; empty means none (exported by the "
            "workers of the default queue)."
        ),
    }


def camera_import_columns() -> list[dict]:
    """The columns of the import for the page that explains them: code, Vietnamese heading, required, accepted values."""
    help_text = _column_help()
    return [
        {
            "column": column,
            "heading_vi": HEADINGS_VI[column],
            "required": column in REQUIRED_COLUMNS,
            "values": help_text[column],
        }
        for column in COLUMNS
    ]


# Writing ------------------------------------------------------------------------


def _existing_cameras(codes, fields):
    """{code: {"pk": ..., field: value}} for the cameras of the file that already exist, in one query."""
    existing = {}
    for row in Camera.objects.order_by().values("pk", "code", *fields).iterator(chunk_size=5000):
        if row["code"] in codes:
            existing[row["code"]] = row
    return existing


def _bulk_update(cameras, fields):
    """Write `fields` of `cameras` by primary key, one UPDATE ... FROM (VALUES ...) statement per batch.

    QuerySet.bulk_update builds a CASE expression per field and row; at 40,000
    cameras with every column set that took over two minutes on SQLite, where
    this takes seconds on both engines.
    """
    if not cameras:
        return
    connection = connections[Camera.objects.db]
    if not _supports_update_from(connection):
        Camera.objects.bulk_update(cameras, fields, batch_size=BATCH_SIZE)
        return
    model_fields = [Camera._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(Camera._meta.db_table)
    assignments = ", ".join(
        f"{quote(field.column)} = {_cast(connection, f'v.column{position}', field)}"
        for position, field in enumerate(model_fields, start=2)
    )
    per_row = len(model_fields) + 1
    max_params = connection.features.max_query_params or per_row * BATCH_SIZE
    rows_per_statement = max(1, min(BATCH_SIZE, max_params // per_row))
    row_placeholder = "(" + ", ".join(["%s"] * per_row) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(cameras), rows_per_statement):
            batch = cameras[start : start + rows_per_statement]
            params = []
            for camera in batch:
                params.append(camera.pk)
                params.extend(field.get_db_prep_save(getattr(camera, field.attname), connection) for field in model_fields)
            values = ", ".join([row_placeholder] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608 - names from the model, values bound
                f"WHERE {table}.{quote(Camera._meta.pk.column)} = v.column1",
                params,
            )


def _supports_update_from(connection):
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return connection.Database.sqlite_version_info >= (3, 33, 0)
    return False


def _cast(connection, expression, field):
    # PostgreSQL types a VALUES column from its literals (text, numeric, NULL):
    # cast to the column's type. SQLite applies the column's affinity on write,
    # and its CAST to "datetime" would mangle the text.
    if connection.vendor == "postgresql":
        return f"CAST({expression} AS {field.db_type(connection)})"
    return expression
