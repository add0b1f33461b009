"""Fuzzed input at the edges a user reaches: the request form, comments and decisions, the ledger filters, the camera CSV.

Whatever arrives, the answer is a page or a clear refusal, never a server
error, and a refused input writes nothing: no request, no camera, no ledger event.
"""

import io

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from governance.imports import CameraImportError, camera_import_csv
from governance.models import Camera
from requests.models import FootageRequest
from tests.auth import sign_in_verified
from tests.requests.conftest import world  # noqa: F401 - the workflow world
from tests.requests.test_pages import filing

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(st.characters(codec="utf-8"), max_size=120)
field = st.one_of(text, st.sampled_from(["", "\x00", "a\x00b", "9" * 5000, "-1", "1e309", "2026-13-40T25:61", "<script>"]))


def counts():
    return AuditEvent.objects.count(), FootageRequest.objects.count(), Camera.objects.count()


def undone(call):
    """Run `call` in a savepoint that is rolled back: each example starts from the same data. Returns (result, changed).

    A bare savepoint, not an atomic block: the services `call` reaches open durable transactions, which no atomic
    block may enclose."""
    before = counts()
    savepoint = transaction.savepoint()
    try:
        result = call()
        changed = counts() != before
    finally:
        transaction.savepoint_rollback(savepoint)
    return result, changed


@FUZZ
@given(
    overrides=st.fixed_dictionaries(
        {},
        optional={
            "legal_basis": field,
            "letter_number": field,
            "letter_date": field,
            "case_reference": field,
            "purpose": field,
            "urgency": field,
            "items-TOTAL_FORMS": field,
            "items-0-camera": field,
            "items-0-start": field,
            "items-0-end": field,
            "items-0-data_category": field,
            "action": field,
        },
    )
)
def test_the_request_form_answers_every_input_without_a_server_error(client, world, overrides):  # noqa: F811
    client.force_login(world.insider)
    response, changed = undone(lambda: client.post(reverse("requests:new"), filing(world, **overrides)))
    assert response.status_code in (200, 302, 400, 413), overrides
    if response.status_code != 302:
        assert not changed, overrides


@pytest.fixture
def submitted(world):  # noqa: F811
    """A submitted request, made once for all the examples of a test (each example's writes are rolled back)."""
    return world.submitted()


@FUZZ
@given(view=st.sampled_from(["comment", "ask-info", "reject", "review", "withdraw"]), value=field, recommendation=field)
def test_comments_and_decisions_answer_every_input_without_a_server_error(client, world, submitted, view, value, recommendation):  # noqa: F811
    footage_request = submitted
    actor = world.insider if view in ("comment", "withdraw") else world.reviewer
    sign_in_verified(client, actor)
    data = {"body": value, "question": value, "reason": value, "recommendation": recommendation}
    url = reverse(f"requests:{view}", args=[footage_request.reference])
    response, changed = undone(lambda: client.post(url, data))
    assert response.status_code in (200, 302, 400, 413), (view, data)
    if response.status_code != 302:
        assert not changed, (view, data)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(
            ["actor", "agency", "action", "target_type", "target_id", "reference", "outcome", "date_from", "date_to"]
            + ["after", "before", "size", "page", "format"]
        ),
        field,
        max_size=5,
    )
)
def test_the_ledger_filters_answer_every_query_without_a_server_error(client, world, superuser, query):  # noqa: F811
    sign_in_verified(client, superuser)
    response, _changed = undone(lambda: client.get(reverse("oversight:ledger"), query))
    assert response.status_code in (200, 400), query


HEADER = "code,name,kind,area_code,managing_agency_code,latitude,retention_days\n"


def camera_cell(valid):
    """A cell that is often right (so whole files go through) and otherwise anything at all."""
    return st.one_of(st.just(valid), field)


@FUZZ
@given(
    rows=st.lists(
        st.tuples(
            camera_cell("HB-101"),
            camera_cell("Ngã tư Hàng Bạc"),
            camera_cell("fixed"),
            camera_cell("hang-bac"),
            camera_cell("ioc"),
            camera_cell("21.03"),
            camera_cell("30"),
        ),
        min_size=1,
        max_size=4,
    ),
    header=st.booleans(),
    raw=st.one_of(st.just(b""), st.binary(max_size=60)),
)
def test_the_camera_import_takes_the_whole_file_or_nothing(world, superuser, rows, header, raw):  # noqa: F811
    lines = [",".join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows]
    body = ((HEADER if header else "") + "\n".join(lines) + "\n").encode("utf-8", "surrogatepass") + raw

    def run():
        try:
            return camera_import_csv(actor=superuser, file=io.BytesIO(body))
        except CameraImportError as error:
            assert str(error), body  # the refusal says why
            return None

    result, changed = undone(run)
    if result is None:
        assert not changed, body
    else:
        assert changed, body
