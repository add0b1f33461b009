#!/usr/bin/env bash
# The integration API from filing to a checked download, against `make run`'s demo (http://127.0.0.1:8000/).
#
# An agency's case system (a service account of Công an phường Hàng Bạc) files a request with an idempotency key,
# attaches the official letter and submits it; the monitoring centre's officials review, approve and export it on
# the web; the case system then takes its personal download link, downloads the package, checks its SHA-256 against
# the manifest and through the API's hash check, and confirms receipt.
#
#   bash examples/api_walkthrough.sh              # from the repository root, while `make run` is running
#   BASE=https://camera.example.org TOKEN=cgk_… bash examples/api_walkthrough.sh
set -euo pipefail

BASE=${BASE:-http://127.0.0.1:8000}
PY=${PY:-.venv/bin/python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A token for the agency's case system, issued from the server (an agency administrator issues one on the web:
# menu "Service accounts"). The token alone is printed; it is never shown again.
TOKEN=${TOKEN:-$($PY manage.py api_token --agency ca-hang-bac --name "Hồ sơ vụ việc" --days 1)}
AUTH=(-H "Authorization: Bearer $TOKEN" -H "Accept-Language: vi")

# field PATH < json: one value of a JSON answer (a.b.0.c)
field() {
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if key.isdigit() else value[key]
print(value)' "$1"
}
call() { curl -sS --fail-with-body "${AUTH[@]}" "$@"; }

# 1. File a request for ten minutes of camera HK-HB-001, half an hour ago, with an idempotency key.
python3 - "$WORK/request.json" <<'PY'
import datetime as dt, json, sys
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
json.dump({
    "legal_basis": "CAND_YEU_CAU_TT",
    "letter_number": "45/CV-CAHB",
    "letter_date": dt.date.today().isoformat(),
    "case_reference": "TB-2026-0045",
    "purpose": "Xác minh tin báo mất trộm xe máy trước số 20 phố Hàng Bạc",
    "urgency": "normal",
    "items": [{"camera": "HK-HB-001", "start": (now - dt.timedelta(minutes=40)).isoformat(),
               "end": (now - dt.timedelta(minutes=30)).isoformat(), "data_category": "video"}],
}, open(sys.argv[1], "w"), ensure_ascii=False)
PY
KEY="walkthrough-$(date +%s)"
call -X POST "$BASE/api/v1/requests/" -H "Content-Type: application/json" -H "Idempotency-Key: $KEY" \
  --data @"$WORK/request.json" > "$WORK/filed.json"
REF=$(field reference < "$WORK/filed.json")
echo "1. filed $REF ($(field status_label < "$WORK/filed.json"))"
# The same call again (a retry after a lost answer) files nothing new: the same request comes back.
AGAIN=$(call -X POST "$BASE/api/v1/requests/" -H "Content-Type: application/json" -H "Idempotency-Key: $KEY" \
  --data @"$WORK/request.json" | field reference)
[ "$AGAIN" = "$REF" ] && echo "   retried with the same key: still $REF, nothing filed twice"

# 2. Attach the official letter (a PDF) and submit.
$PY -c "from reportlab.pdfgen import canvas; c = canvas.Canvas('$WORK/cong-van.pdf'); c.drawString(72, 760, 'Cong van 45/CV-CAHB'); c.save()"
call -X POST "$BASE/api/v1/requests/$REF/letter/" -F "file=@$WORK/cong-van.pdf;type=application/pdf" > /dev/null
echo "2. $(call -X POST "$BASE/api/v1/requests/$REF/submit/" | field status_label)"

# 3. The centre's officials act on the web; the case system waits, reading the request's status.
wait_for() {  # wait_for URL PATH VALUE...: until the field at PATH is one of the values
  local url=$1 path=$2; shift 2
  while true; do
    local now
    now=$(call "$url" | field "$path")
    for want in "$@"; do [ "$now" = "$want" ] && { echo "$now"; return; }; done
    case $now in rejected|withdrawn|expired|export_failed) echo "$now" >&2; exit 1 ;; esac
    sleep 5
  done
}
echo "3. On the web ($BASE/requests/$REF/), password demo-Camera-2026, code: $PY manage.py demo_otp"
echo "   - ioc-hk.reviewer: Recommend approval; then ioc-hk.approver: Approve"
# Approved, or already past it: a custodian may start the export (seconds long) between two reads.
wait_for "$BASE/api/v1/requests/$REF/" status approved exporting damage_held released > /dev/null
echo "   approved; now ioc-hk.custodian: Start export"
wait_for "$BASE/api/v1/requests/$REF/release/" status released > /dev/null
echo "   released"

# 4. Take a personal link, download the package, check it against the manifest and through the hash check.
call "$BASE/api/v1/requests/$REF/release/" > "$WORK/release.json"
EXPECTED=$(field release.package_sha256 < "$WORK/release.json")
URL=$(call -X POST "$BASE/api/v1/requests/$REF/release/link/" | field download_url)
call "$BASE$URL" -o "$WORK/package.zip"
GOT=$(sha256sum "$WORK/package.zip" | cut -d' ' -f1)
[ "$GOT" = "$EXPECTED" ] || { echo "4. the package's SHA-256 $GOT is not the manifest's $EXPECTED" >&2; exit 1; }
echo "4. downloaded $(stat -c %s "$WORK/package.zip") bytes, SHA-256 $GOT = the manifest's"
MATCH=$(call -X POST "$BASE/api/v1/verify/" -H "Content-Type: application/json" --data "{\"sha256\": \"$GOT\"}" \
  | field matches.0.reference)
[ "$MATCH" = "$REF" ] && echo "   the hash check finds it: released for $MATCH"

# 5. Confirm receipt: the request is closed.
echo "5. $(call -X POST "$BASE/api/v1/requests/$REF/receipt/" | field status_label)"
