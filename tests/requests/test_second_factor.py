"""Decisions, exports and holds need a session that passed the second factor; a password alone decides nothing."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from requests.models import Decision, Status
from tests.auth import sign_in_verified
from tests.requests.footage import approved

pytestmark = pytest.mark.django_db

SECOND_FACTOR_MESSAGE = "This needs your second factor"


def password_only(client, user, *, language="en"):
    """Signed in with the password, second factor not yet passed."""
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def test_approver_without_a_verified_second_factor_cannot_decide(world, client):
    footage_request = world.reviewed()
    password_only(client, world.approver)
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert 'data-action="approve"' not in page
    assert "Your role needs a second factor" in page and reverse("accounts:second-factor") in page

    response = client.post(reverse("requests:approve", args=[footage_request.reference]), {"reason": "Đủ căn cứ"}, follow=True)
    assert SECOND_FACTOR_MESSAGE in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW
    assert not footage_request.decisions.filter(step=Decision.Step.APPROVAL).exists()
    assert not AuditEvent.objects.filter(action=Action.REQUEST_APPROVE).exists()
    # Only the page views were recorded.
    assert set(AuditEvent.objects.filter(seq__gt=last_seq).values_list("action", flat=True)) == {Action.REQUEST_VIEW}


def test_the_second_factor_prompt_and_refusal_are_in_vietnamese_for_a_vietnamese_approver(world, client):
    footage_request = world.reviewed()
    password_only(client, world.approver, language="vi")

    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert (
        "Vai trò của đồng chí cần xác thực hai bước: các quyết định, việc trích xuất, bảo toàn dữ liệu, "
        "bản sao nhật ký kiểm toán và việc quản trị chỉ thực hiện được sau khi xác nhận đăng nhập."
    ) in page

    response = client.post(reverse("requests:approve", args=[footage_request.reference]), {"reason": "Đủ căn cứ"}, follow=True)
    assert (
        "Thao tác này cần xác thực hai bước: vui lòng xác nhận đăng nhập bằng ứng dụng xác thực, mã dự phòng hoặc "
        "khóa bảo mật (mục Xác thực hai bước ở đầu trang), rồi thực hiện lại."
    ) in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW
    assert not AuditEvent.objects.filter(action=Action.REQUEST_APPROVE).exists()


def test_the_same_approver_decides_once_the_session_passed_the_second_factor(world, client):
    footage_request = world.reviewed()
    sign_in_verified(client, world.approver)
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert 'data-action="approve"' in page and "Your role needs a second factor" not in page
    client.post(reverse("requests:approve", args=[footage_request.reference]), {"reason": "Đủ căn cứ"})
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert AuditEvent.objects.filter(action=Action.REQUEST_APPROVE, reference=footage_request.reference).exists()


@pytest.mark.parametrize("action", ["review", "ask-info", "reject"])
def test_every_decision_is_refused_without_the_second_factor(world, client, action):
    footage_request = world.reviewed() if action == "reject" else world.submitted()
    actor = world.approver if action == "reject" else world.reviewer
    fields = {"recommendation": "approve", "reason": "Đủ căn cứ", "question": "Bổ sung số công văn?"}
    password_only(client, actor)
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    before = (footage_request.status, footage_request.decisions.count())
    response = client.post(reverse(f"requests:{action}", args=[footage_request.reference]), fields, follow=True)
    assert SECOND_FACTOR_MESSAGE in response.content.decode()
    footage_request.refresh_from_db()
    assert (footage_request.status, footage_request.decisions.count()) == before
    assert not AuditEvent.objects.filter(
        seq__gt=last_seq, action__in=[Action.REQUEST_REVIEW, Action.REQUEST_ASK_INFO, Action.REQUEST_REJECT]
    ).exists()


def test_a_requester_files_and_submits_without_any_second_factor(world, client):
    footage_request = world.draft()
    password_only(client, world.insider)
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert "Your role needs a second factor" not in page
    client.post(reverse("requests:submit", args=[footage_request.reference]))
    footage_request.refresh_from_db()
    assert footage_request.status == Status.SUBMITTED


def test_export_and_legal_hold_are_refused_without_the_second_factor(world, footage, client):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    password_only(client, world.custodian)
    response = client.post(reverse("requests:export", args=[footage_request.reference]), follow=True)
    assert SECOND_FACTOR_MESSAGE in response.content.decode()
    response = client.post(reverse("requests:hold", args=[footage_request.reference]), {"reason": "Vụ án"}, follow=True)
    assert SECOND_FACTOR_MESSAGE in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert not AuditEvent.objects.filter(action__in=[Action.REQUEST_EXPORT_START, Action.HOLD_PLACE]).exists()


def test_a_dossier_is_not_handed_to_a_session_without_the_second_factor(world, client):
    from tests.factories import AgencyFactory, UserFactory

    inspectorate = AgencyFactory(code="thanh-tra-q", kind="inspectorate", area=world.province)
    auditor = UserFactory(username="thanhtra-q", agency=inspectorate, roles=["auditor"])
    footage_request = world.submitted()
    password_only(client, auditor)
    response = client.get(reverse("oversight:dossier", args=[footage_request.reference]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:second-factor"))
    assert not AuditEvent.objects.filter(action=Action.REPORT_GENERATE).exists()
