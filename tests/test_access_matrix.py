"""The access matrix: every URL pattern × method × role of two agencies in different areas, and anonymous.

Agency A's side is the workflow world (a ward police in Hàng Bạc, the district's
monitoring centre, an inspectorate over the district); agency B's side sits in
another district: a ward police with its own administrator, a monitoring
centre's reviewer, approver and custodian, an inspectorate. Every URL parameter
is a real object of A's (its released request, its camera, its report, a ledger
event about it...). What each identity gets is declared in EXPECTED below; a new
URL pattern without an entry fails with its name. Refused cells must change
nothing: no row, no ledger event.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from api import tokens, webhooks
from audit.models import AuditEvent
from governance.models import Agency, AssignmentRule, Camera, Membership, RecorderSite
from oversight.models import BundleRequest
from oversight.reports import report_request
from requests import releases
from requests.models import FootageRequest
from requests.selectors import verification_token
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, DayOffFactory, DistrictFactory, UserFactory, WardFactory, category
from tests.requests.conftest import world  # noqa: F401 - the workflow world
from tests.requests.footage import footage, segment_bank  # noqa: F401 - footage for the released request
from tests.requests.test_headers import ROUTE_PARAMETER, every_route
from tests.requests.test_release import released  # noqa: F401 - the released request fixture

pytestmark = pytest.mark.django_db


def identities(world, superuser):  # noqa: F811
    """name -> (user or None, verified second factor?)."""
    district_b = DistrictFactory(parent=world.province, code="dong-da", name_vi="Quận Đống Đa")
    ward_b = WardFactory(parent=district_b, code="lang-ha", name_vi="Phường Láng Hạ")
    police_b = AgencyFactory(code="cap-lang-ha", name_vi="Công an phường Láng Hạ", area=ward_b)
    centre_b = AgencyFactory(
        code="ioc-b", name_vi="Trung tâm giám sát Đống Đa", kind=Agency.Kind.MONITORING_CENTRE, area=district_b
    )
    inspectorate_a = AgencyFactory(
        code="tt-hk", name_vi="Thanh tra quận Hoàn Kiếm", kind=Agency.Kind.INSPECTORATE, area=world.ward.parent
    )
    inspectorate_b = AgencyFactory(code="tt-dd", name_vi="Thanh tra quận Đống Đa", kind=Agency.Kind.INSPECTORATE, area=district_b)
    # B's approver answers exactly as B's reviewer: one of them stands for both.
    people = {
        "anon": (None, False),
        "A.requester": (world.insider, True),
        "A.admin": (UserFactory(username="qt-a", agency=world.agency_a, is_staff=True, roles=["administrator"]), True),
        "A.reviewer": (world.reviewer, True),
        "A.approver": (world.approver, True),
        "A.approver-no-2fa": (world.approver2, False),
        "A.custodian": (world.custodian, True),
        "A.auditor": (UserFactory(username="tt-a", agency=inspectorate_a, roles=["auditor"]), True),
        "centre.admin": (UserFactory(username="qt-ioc", agency=world.centre, is_staff=True, roles=["administrator"]), True),
        "superuser": (superuser, True),
        "B.requester": (UserFactory(username="cb-b", agency=police_b, roles=["requester"]), True),
        "B.admin": (UserFactory(username="qt-b", agency=police_b, is_staff=True, roles=["administrator"]), True),
        "B.reviewer": (UserFactory(username="td-b", agency=centre_b, roles=["reviewer"]), True),
        "B.custodian": (UserFactory(username="vh-b", agency=centre_b, roles=["custodian"]), True),
        "B.auditor": (UserFactory(username="tt-b", agency=inspectorate_b, roles=["auditor"]), True),
    }
    return people


def parameters(world, released, people):  # noqa: F811
    """Each URL parameter filled with a real object of agency A's."""
    auditor_a = people["A.auditor"][0]
    today = timezone.localdate()
    report = report_request(actor=auditor_a, date_from=today, date_to=today, agency=world.agency_a)
    _grant, download = releases.release_link_issue(actor=world.insider, footage_request=released)
    device = TOTPDevice.objects.create(user=world.insider, name="phone", confirmed=False)
    event = AuditEvent.objects.filter(reference=released.reference).order_by("seq").first()
    account = tokens.service_account_create(actor=people["A.admin"][0], name="Hồ sơ vụ việc", roles=["requester"])
    endpoint, _secret = webhooks.endpoint_create(people["A.admin"][0], "https://hoso.example.org/hook", "Hồ sơ vụ việc")
    api_token, _secret = tokens.token_issue(
        actor=people["A.admin"][0], account=account, name="case system", scopes=["requests:read"], days=30
    )
    rule = AssignmentRule.objects.filter(agency=world.centre).first()
    admin_objects = {
        "area": world.ward.pk,
        "agency": world.agency_a.pk,
        "user": world.insider.pk,
        "membership": Membership.objects.filter(user=world.insider).first().pk,
        "camera": world.camera.pk,
        "recordersite": RecorderSite.objects.create(code="dg-a", name="Đầu ghi A", queue="site-a").pk,
        "datacategory": category("video").pk,
        "legalbasis": world.basis.pk,
        "dayoff": DayOffFactory().pk,
        "regulationversion": world.version.pk,
        "assignmentrule": rule.pk,
        "accessattempt": 1,
    }
    bundle = BundleRequest.objects.create(requested_by=people["superuser"][0], date_from=today, date_to=today)
    return {
        "pk:audit/bundles/": bundle.pk,
        "pk:api/v1/bundles/": bundle.pk,
        "pk:api/v1/reports/": report.pk,
        "reference": released.reference,
        "token:requests/download/": download,
        "token:api/v1/downloads/": download,
        "token:requests/verify/": verification_token(released.release),
        "pk:attachments": released.attachments.first().pk,
        "item": released.items.first().pk,
        "token:requests/subject-download/": "not-a-link",
        "pk:audit/reports/": report.pk,
        "pk:accounts/": device.pk,
        "kind:accounts/": "totp",
        "kind:audit/": "pdf",
        "seq": event.seq,
        "username:api/accounts/": account.username,
        "pk:api/webhooks/": endpoint.pk,
        "prefix:api/tokens/": api_token.prefix,
        "code:cameras/": world.camera.code,
        "code:legal-bases/": world.basis.code,
        "content_type_id": ContentType.objects.get_for_model(FootageRequest).pk,
        "object_id:admin/r/": released.pk,
        "app_label": "governance",
        "url": "nowhere/",
        "id": world.insider.pk,
        **{f"object_id:admin/governance/{model}/": pk for model, pk in admin_objects.items()},
        "object_id:admin/axes/accessattempt/": admin_objects["accessattempt"],
    }


def fill(route, values):
    def one(match):
        name = match.group(1)
        for key, value in values.items():
            if key.startswith(name + ":") and key.split(":", 1)[1] in route:
                return str(value)
        if name in values:
            return str(values[name])
        raise AssertionError(f"No value for <{name}> in {route}")

    return "/" + ROUTE_PARAMETER.sub(one, route)


def outcome(response):
    if response.status_code in (301, 302):
        location = response["Location"]
        if "/login/" in location:
            return "login"
        if "/second-factor/" in location:
            return "2fa"
        return "302"
    return response.status_code


def counts():
    return AuditEvent.objects.count(), FootageRequest.objects.count(), Membership.objects.count(), Camera.objects.count()


EXPECTED = {
    "i18n/setlang/": {"GET": {"*": "302"}, "POST": {"*": "302"}},
    "accounts/login/": {"GET": {"*": "302", "anon": 200}, "POST": {"*": "302", "anon": 200}},
    "accounts/logout/": {"GET": {"*": 405}, "POST": {"*": "login"}},
    "accounts/webauthn/registration/begin/": {"GET": {"*": 405, "anon": 403}, "POST": {"*": 200, "anon": 403}},
    "accounts/webauthn/registration/complete/": {"GET": {"*": 405, "anon": 403}, "POST": {"*": 400, "anon": 403}},
    "accounts/webauthn/authentication/begin/": {"GET": {"*": 405, "anon": 403}, "POST": {"*": 200, "anon": 403}},
    "accounts/webauthn/authentication/complete/": {"GET": {"*": 405, "anon": 403}, "POST": {"*": 400, "anon": 403}},
    "accounts/webauthn/jsi18n/": {"GET": {"*": 200}, "POST": {"*": 405}},
    "accounts/second-factor/": {
        "GET": {"*": "302", "anon": "login", "A.approver-no-2fa": "2fa"},
        "POST": {"*": "302", "anon": "login", "A.approver-no-2fa": "2fa"},
    },
    "accounts/second-factor/setup/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    "accounts/second-factor/app/": {"GET": {"*": 405, "anon": "login"}, "POST": {"*": "2fa", "anon": "login"}},
    "accounts/second-factor/app/<int:pk>/": {
        "GET": {"*": 404, "anon": "login", "A.requester": 200},
        "POST": {"*": 404, "anon": "login", "A.requester": 200},
    },
    "accounts/second-factor/app/<int:pk>/qr.png": {
        "GET": {"*": 404, "anon": "login", "A.requester": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "accounts/second-factor/backup-codes/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {"*": 200, "anon": "login", "A.approver-no-2fa": "2fa"},
    },
    "accounts/second-factor/<str:kind>/<int:pk>/remove/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {"*": 404, "anon": "login", "A.requester": "2fa", "A.approver-no-2fa": "2fa"},
    },
    "accounts/security/": {
        "GET": {"*": 404, "anon": "login", "centre.admin": 200, "superuser": 200},
        "POST": {"*": 404, "anon": "login", "centre.admin": "302", "superuser": "302"},
    },
    "admin/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/login/": {
        "GET": {"*": 200, "A.admin": "302", "centre.admin": "302", "superuser": "302", "B.admin": "302"},
        "POST": {"*": 200},
    },
    "admin/logout/": {
        "GET": {"*": "302", "A.admin": 405, "centre.admin": 405, "superuser": 405, "B.admin": 405},
        "POST": {"*": "302", "A.admin": "login", "centre.admin": "login", "superuser": "login", "B.admin": "login"},
    },
    "admin/password_change/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/password_change/done/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 405, "A.approver-no-2fa": "2fa", "centre.admin": 405, "superuser": 405, "B.admin": 405},
    },
    "admin/autocomplete/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 405, "A.approver-no-2fa": "2fa", "centre.admin": 405, "superuser": 405, "B.admin": 405},
    },
    "admin/jsi18n/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 405, "A.approver-no-2fa": "2fa", "centre.admin": 405, "superuser": 405, "B.admin": 405},
    },
    "admin/r/<path:content_type_id>/<path:object_id>/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 404, "superuser": 404, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 404, "superuser": 404, "B.admin": 404},
    },
    "admin/governance/area/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/area/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/area/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/area/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/area/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/area/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/agency/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/agency/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/agency/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/agency/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/agency/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/agency/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/user/<id>/password/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/user/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/governance/user/add/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/governance/user/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/user/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/user/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/user/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/membership/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/governance/membership/add/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/governance/membership/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/membership/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/membership/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/membership/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/camera/import/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/camera/import/template/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/camera/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/camera/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/camera/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/camera/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/camera/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/camera/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/recordersite/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/recordersite/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/recordersite/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/recordersite/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/recordersite/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/recordersite/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/datacategory/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/datacategory/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/datacategory/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/datacategory/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/datacategory/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/datacategory/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/legalbasis/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/legalbasis/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/legalbasis/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/legalbasis/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/legalbasis/<path:object_id>/revise/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {
            "*": "login",
            "A.admin": 404,
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": 404,
        },
    },
    "admin/governance/legalbasis/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/legalbasis/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/dayoff/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/dayoff/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/dayoff/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/dayoff/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/dayoff/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/dayoff/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/regulationversion/<path:object_id>/draft/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {
            "*": "login",
            "A.admin": 404,
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": 404,
        },
    },
    "admin/governance/regulationversion/<path:object_id>/content.json": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/regulationversion/<path:object_id>/publish/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/regulationversion/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/regulationversion/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/regulationversion/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/regulationversion/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/regulationversion/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/regulationversion/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/governance/assignmentrule/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/assignmentrule/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/governance/assignmentrule/<path:object_id>/history/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
    },
    "admin/governance/assignmentrule/<path:object_id>/delete/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/assignmentrule/<path:object_id>/change/": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 404},
    },
    "admin/governance/assignmentrule/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/axes/accessattempt/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 403},
    },
    "admin/axes/accessattempt/add/": {
        "GET": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 403},
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 403},
    },
    "admin/axes/accessattempt/<path:object_id>/history/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/axes/accessattempt/<path:object_id>/delete/": {
        "GET": {
            "*": "login",
            "A.admin": 403,
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": 403,
        },
        "POST": {
            "*": "login",
            "A.admin": 403,
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": 403,
        },
    },
    "admin/axes/accessattempt/<path:object_id>/change/": {
        "GET": {
            "*": "login",
            "A.admin": 403,
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": 403,
        },
        "POST": {"*": "login", "A.admin": 403, "A.approver-no-2fa": "2fa", "centre.admin": 403, "superuser": 403, "B.admin": 403},
    },
    "admin/axes/accessattempt/<path:object_id>/": {
        "GET": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
        "POST": {
            "*": "login",
            "A.admin": "302",
            "A.approver-no-2fa": "2fa",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
        },
    },
    "admin/<app_label>/": {
        "GET": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
        "POST": {"*": "login", "A.admin": 200, "A.approver-no-2fa": "2fa", "centre.admin": 200, "superuser": 200, "B.admin": 200},
    },
    "admin/<url>": {
        "GET": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 404, "superuser": 404, "B.admin": 404},
        "POST": {"*": "login", "A.admin": 404, "A.approver-no-2fa": "2fa", "centre.admin": 404, "superuser": 404, "B.admin": 404},
    },
    "api/accounts/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "api/accounts/new/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
        "POST": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
    },
    "api/accounts/<str:username>/": {"GET": {"*": 404, "anon": "login", "A.admin": 200}, "POST": {"*": 405, "anon": "login"}},
    "api/accounts/<str:username>/tokens/new/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200},
        "POST": {"*": 404, "anon": "login", "A.admin": 200},
    },
    "api/tokens/<str:prefix>/revoke/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {"*": 404, "anon": "login", "A.admin": "302"},
    },
    "api/webhooks/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "api/webhooks/new/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
        "POST": {"*": 404, "anon": "login", "A.admin": 200, "centre.admin": 200, "B.admin": 200},
    },
    "api/webhooks/<int:pk>/deactivate/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {"*": 404, "anon": "login", "A.admin": "302"},
    },
    "api/v1/schema/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/docs/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    "api/v1/legal-bases/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/legal-bases/<str:code>/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/data-categories/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/cameras/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/cameras/<str:code>/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 405, "anon": 401}},
    "api/v1/requests/": {"GET": {"*": 200, "anon": 401}, "POST": {"*": 400, "anon": 401}},
    "api/v1/requests/<str:reference>/": {
        "GET": {
            "*": 200,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {"*": 405, "anon": 401},
    },
    "api/v1/requests/<str:reference>/submit/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 409,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/withdraw/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 409,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/letter/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 400,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/comments/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 400,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/review/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 400,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/ask-info/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 400,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/approve/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 409,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/reject/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 400,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/release/": {
        "GET": {
            "*": 200,
            "anon": 401,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {"*": 405, "anon": 401},
    },
    "api/v1/requests/<str:reference>/release/link/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 409,
            "anon": 401,
            "A.requester": 201,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/requests/<str:reference>/receipt/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 409,
            "anon": 401,
            "A.requester": 200,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "api/v1/downloads/<str:token>/": {"GET": {"*": 404, "anon": 401, "A.requester": 200}, "POST": {"*": 405, "anon": 401}},
    "api/v1/verify/": {"GET": {"*": 405, "anon": 401}, "POST": {"*": 400, "anon": 401}},
    "api/v1/reports/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 404,
            "anon": 401,
            "A.admin": 400,
            "A.auditor": 400,
            "centre.admin": 400,
            "superuser": 400,
            "B.admin": 400,
            "B.auditor": 400,
        },
    },
    "api/v1/reports/<int:pk>/": {
        "GET": {"*": 404, "anon": 401, "A.auditor": 200, "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": 401},
    },
    "api/v1/bundles/": {
        "GET": {"*": 405, "anon": 401},
        "POST": {
            "*": 404,
            "anon": 401,
            "A.admin": 400,
            "A.auditor": 400,
            "centre.admin": 400,
            "superuser": 400,
            "B.admin": 400,
            "B.auditor": 400,
        },
    },
    "api/v1/bundles/<int:pk>/": {
        "GET": {"*": 404, "anon": 401, "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": 401},
    },
    "api/v1/ledger/": {
        "GET": {
            "*": 404,
            "anon": 401,
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
        "POST": {"*": 405, "anon": 401},
    },
    "audit/": {
        "GET": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
        "POST": {"*": 405, "anon": "login"},
    },
    "audit/events/<int:seq>/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "A.auditor": 200, "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "audit/verify/": {
        "GET": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
        "POST": {
            "*": 404,
            "anon": "login",
            "A.admin": "302",
            "A.auditor": "302",
            "centre.admin": "302",
            "superuser": "302",
            "B.admin": "302",
            "B.auditor": "302",
        },
    },
    "audit/reports/": {
        "GET": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
        "POST": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
    },
    "audit/reports/<int:pk>/": {
        "GET": {"*": 404, "anon": "login", "A.auditor": 200, "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "audit/reports/<int:pk>/<str:kind>/": {"GET": {"*": 404, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    # Offline bundles: the list and its form for every ledger reader; one bundle (asked for by the superuser) for
    # whoever asked and the system administrators; its ZIP for nobody while it is being built.
    "audit/bundles/": {
        "GET": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
        "POST": {
            "*": 404,
            "anon": "login",
            "A.admin": 200,
            "A.auditor": 200,
            "centre.admin": 200,
            "superuser": 200,
            "B.admin": 200,
            "B.auditor": 200,
        },
    },
    "audit/bundles/<int:pk>/": {
        "GET": {"*": 404, "anon": "login", "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "audit/bundles/<int:pk>/zip/": {"GET": {"*": 404, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    "audit/dossier/<str:reference>/": {
        "GET": {"*": 404, "anon": "login", "A.admin": 200, "A.auditor": 200, "centre.admin": 200, "superuser": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    "requests/queue/": {
        "GET": {"*": 404, "anon": "login", "A.reviewer": 200, "A.approver": 200, "A.approver-no-2fa": 200, "B.reviewer": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/new/": {
        "GET": {"*": 404, "anon": "login", "A.requester": 200, "B.requester": 200},
        "POST": {"*": 404, "anon": "login", "A.requester": 200, "B.requester": 200},
    },
    "requests/cameras.json": {
        "GET": {"*": 404, "anon": "login", "A.requester": 200, "B.requester": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/notifications/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 405, "anon": "login"}},
    "requests/notifications/read/": {"GET": {"*": 405, "anon": "login"}, "POST": {"*": "302", "anon": "login"}},
    "requests/verify/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "requests/verify/<str:token>/": {"GET": {"*": 200}, "POST": {"*": 200}},
    # The verification record is printed only from a result the check page signed: anything else is refused (400).
    "requests/verify/record/": {"GET": {"*": 405, "anon": "login"}, "POST": {"*": 400, "anon": "login"}},
    "requests/verify/<str:token>/record/": {"GET": {"*": 405}, "POST": {"*": 400}},
    "requests/download/<str:token>/": {
        "GET": {"*": 404, "anon": "login", "A.requester": 200},
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/": {
        "GET": {
            "*": 200,
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/edit/": {
        "GET": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/attachments/<int:pk>/": {
        "GET": {
            "*": 200,
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/submit/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/withdraw/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/review/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/ask-info/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/approve/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/reject/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/comment/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/export/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/export/progress/": {
        "GET": {
            "*": 200,
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/release/": {
        "GET": {
            "*": 404,
            "anon": "login",
            "A.requester": 200,
            "A.admin": 200,
            "A.custodian": 200,
            "A.auditor": 200,
            "centre.admin": 200,
        },
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/release/link/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "A.requester": 200,
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/release/revoke/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/release/verification/revoke/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/release/confirm/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/<str:reference>/release/acknowledge/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {"*": 404, "anon": "login", "A.custodian": "302"},
    },
    "requests/<str:reference>/hold/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # The released request: every act on its redaction is refused (302 with the reason) to those who see it.
    "requests/<str:reference>/redaction/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # The released request: every act on its redaction is refused (302 with the reason) to those who see it.
    "requests/<str:reference>/redaction/regions/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # The released request: every act on its redaction is refused (302 with the reason) to those who see it.
    "requests/<str:reference>/redaction/regions/remove/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # The released request: every act on its redaction is refused (302 with the reason) to those who see it.
    "requests/<str:reference>/redaction/review/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # The counter: a monitoring centre's custodians file a person's own request (an empty post: the form again).
    "requests/new/subject/": {
        "GET": {"*": 404, "anon": "login", "A.custodian": 200, "B.custodian": 200},
        "POST": {"*": 404, "anon": "login", "A.custodian": 200, "B.custodian": 200},
    },
    # A link of the person's own: only for a person's request (this released one is not), no account needed.
    "requests/<str:reference>/release/subject-link/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    "requests/subject-download/<str:token>/": {"GET": {"*": 200}, "POST": {"*": 200}},
    # A frame to draw regions on: the assigned custodians, before the export only (this request is released).
    "requests/<str:reference>/redaction/frame/<int:item>/": {
        "GET": {"*": 404, "anon": "login"},
        "POST": {"*": 405, "anon": "login"},
    },
    "requests/<str:reference>/hold/lift/": {
        "GET": {"*": 405, "anon": "login"},
        "POST": {
            "*": "302",
            "anon": "login",
            "B.requester": 404,
            "B.admin": 404,
            "B.reviewer": 404,
            "B.custodian": 404,
            "B.auditor": 404,
        },
    },
    # Liveness answers anyone; readiness and metrics only this machine's probes (here no network is listed).
    "healthz": {"GET": {"*": 200}, "POST": {"*": 405}},
    "readyz": {"GET": {"*": 404}, "POST": {"*": 404}},
    "metrics": {"GET": {"*": 404}, "POST": {"*": 404}},
    "": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "cameras/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "cameras/<path:code>/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "legal-bases/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "legal-bases/<slug:code>/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
    "regulation/": {"GET": {"*": 200, "anon": "login"}, "POST": {"*": 200, "anon": "login"}},
}

# Refusals that are themselves logged on purpose: a download link tried by anyone but its holder.
LOGGED_REFUSALS = {("requests/download/<str:token>/", "GET"), ("api/v1/downloads/<str:token>/", "GET")}
REFUSED = {400, 403, 404, 405}
ADMIN_PROBED_BY = {"anon", "A.requester", "A.approver-no-2fa", "B.requester"}


def expected(route, method, name):
    cells = EXPECTED[route][method]
    return cells.get(name, cells["*"])


def test_every_url_pattern_has_a_declared_row():
    routes = [route for route, _pattern in every_route()]
    missing = [route for route in routes if route not in EXPECTED]
    assert not missing, f"URL patterns without a row in the access matrix (add them to EXPECTED): {missing}"
    stale = sorted(set(EXPECTED) - set(routes))
    assert not stale, f"Rows of the access matrix for URL patterns that no longer exist: {stale}"


# Three slices of the identities, so that parallel runs share the work; each slice builds the same world.
SLICES = {
    "requesting-and-deciding": ["anon", "A.requester", "A.admin", "A.reviewer", "A.approver"],
    "centre-and-oversight": ["A.approver-no-2fa", "A.custodian", "A.auditor", "centre.admin"],
    "superuser-and-agency-b": ["superuser", "B.requester", "B.admin", "B.reviewer", "B.custodian", "B.auditor"],
}


@pytest.mark.parametrize("names", SLICES.values(), ids=SLICES.keys())
def test_access_matrix(client, world, released, superuser, names, settings):  # noqa: F811
    settings.HEALTH_ALLOWED_NETWORKS, settings.HEALTH_TOKEN = [], ""
    people = identities(world, superuser)
    assert sorted(people) == sorted(name for slice_ in SLICES.values() for name in slice_)
    values = parameters(world, released, people)
    wrong = []

    def sign_in(user, verified):
        client.logout()
        if user is not None:
            if verified:
                sign_in_verified(client, user)
            else:
                client.force_login(user)

    for name in names:
        user, verified = people[name]
        cache.clear()  # throttles count per address: each identity starts afresh
        sign_in(user, verified)
        for route, _pattern in every_route():
            url = fill(route, values)
            for method in ("GET", "POST"):
                want = expected(route, method, name)
                # A method the view does not take is probed for one identity only: it is the view's, not the role's.
                if want == 405 and name != next(n for n in people if expected(route, method, n) == 405):
                    continue
                # The admin site turns away every account that is not staff before any rule of ours: one
                # account of each side stands for the others there.
                if route.startswith("admin/") and name not in ADMIN_PROBED_BY and not (user and user.is_staff):
                    continue
                before = counts()
                # Every cell starts from the same data: an accepted POST is undone after it is read. A savepoint, not an
                # atomic block: the services behind a POST open durable transactions, which no atomic block may enclose.
                savepoint = transaction.savepoint()
                try:
                    got = outcome(getattr(client, method.lower())(url))
                    after = counts()
                finally:
                    transaction.savepoint_rollback(savepoint)
                if got == "login" and user is not None and "logout" in route:
                    sign_in(user, verified)  # signed out (the cookie went with the response)
                if got != want:
                    wrong.append(f"{method} {url} ({route}) as {name}: got {got!r}, the matrix says {want!r}")
                refused = got in REFUSED or (got == "login" and name == "anon") or (got == "2fa" and name == "A.approver-no-2fa")
                if refused and (route, method) not in LOGGED_REFUSALS and after != before:
                    wrong.append(f"{method} {url} as {name}: refused ({got}) yet changed rows {before} -> {after}")
    assert not wrong, "\n".join(wrong)
