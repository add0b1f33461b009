"""The ledger list's rows are written from Python (oversight.templatetags.ledger_tables): names and references
are shown as text, never as markup."""

import html

import pytest
from django.db import transaction
from django.urls import reverse

from audit import record_event
from audit.models import Action, Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_hostile_user_name_and_reference_are_shown_as_text(client, admin_user):
    actor = UserFactory(username='<svg onload=alert(1)>"x')
    with transaction.atomic():
        event = record_event(
            actor=actor,
            action=Action.REQUEST_VIEW,
            target=("requests.footagerequest", 7),
            reference='YC-2026-<b>1</b>"',
            outcome=Outcome.DENIED,
        )
    client.force_login(admin_user)
    page = client.get(reverse("oversight:ledger")).content.decode()
    assert "<svg" not in page and "<b>1</b>" not in page
    assert html.escape('<svg onload=alert(1)>"x') in page
    assert f'<tr class="is-refused" data-outcome="denied"><td><a href="/audit/events/{event.seq}/">{event.seq}</a></td>' in page
    assert '<span class="badge badge-outcome-denied">' in page
    assert f'<code title="{event.hash}">{event.hash[:12]}</code>' in page
