"""Factories for tests: small, explicit objects instead of fixtures files."""

import datetime as dt

import factory
from django.utils import timezone

from governance.models import Agency, Area, AssignmentRule, Camera, DataCategory, DayOff, LegalBasis, RegulationVersion, User

DEFAULT_PASSWORD = "correct-horse-battery-9"

CATEGORY_DEFAULTS = {
    "video": ("Dữ liệu video ghi hình", "Recorded video", DataCategory.Sensitivity.BASIC),
    "still_image": ("Hình ảnh trích xuất", "Still images", DataCategory.Sensitivity.BASIC),
    "plate_events": ("Sự kiện nhận dạng biển số", "Plate-recognition events", DataCategory.Sensitivity.SENSITIVE),
    "face_events": ("Sự kiện nhận dạng khuôn mặt", "Face-recognition events", DataCategory.Sensitivity.SENSITIVE),
}


def category(code="video"):
    name_vi, name_en, sensitivity = CATEGORY_DEFAULTS[code]
    obj, _ = DataCategory.objects.get_or_create(
        code=code, defaults={"name_vi": name_vi, "name_en": name_en, "sensitivity": sensitivity}
    )
    return obj


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = "hn"
    name_vi = "Thành phố Hà Nội"
    name_en = "Hanoi"
    level = Area.Level.PROVINCE


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: f"d{n}")
    name_vi = factory.Sequence(lambda n: f"Quận {n}")
    name_en = factory.Sequence(lambda n: f"District {n}")
    level = Area.Level.DISTRICT
    parent = factory.SubFactory(ProvinceFactory)


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: f"w{n}")
    name_vi = factory.Sequence(lambda n: f"Phường Số {n}")
    name_en = factory.Sequence(lambda n: f"Ward {n}")
    level = Area.Level.WARD
    parent = factory.SubFactory(DistrictFactory)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"agency-{n}")
    name_vi = factory.Sequence(lambda n: f"Công an phường Số {n}")
    name_en = factory.Sequence(lambda n: f"Ward {n} Police")
    kind = Agency.Kind.WARD_POLICE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Văn"
    last_name = factory.Sequence(lambda n: f"Nguyễn {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        for role in extracted or ():
            grant(self, role)


def grant(user, role):
    """Give a role through the real service (group, guardian permission, ledger event)."""
    from django.db import transaction

    from governance.services import membership_grant

    with transaction.atomic():
        membership_grant(actor=None, user=user, role=role)
    return user


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Camera

    code = factory.Sequence(lambda n: f"CAM-{n:05d}")
    name = factory.Sequence(lambda n: f"Ngã tư số {n}")
    kind = Camera.Kind.FIXED
    area = factory.SubFactory(WardFactory)
    managing_agency = factory.SubFactory(AgencyFactory, kind=Agency.Kind.MONITORING_CENTRE)
    retention_days = 30


class LegalBasisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalBasis
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"BASIS_{n}")
    title_vi = factory.Sequence(lambda n: f"Căn cứ thử nghiệm {n}")
    title_en = factory.Sequence(lambda n: f"Test basis {n}")
    citation = "BLTTHS 101/2015 Điều 88"
    valid_from = factory.LazyFunction(lambda: dt.date(2020, 1, 1))

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if not create:
            return
        self.allowed_categories.set([category(code) for code in (extracted or ["video"])])


class DayOffFactory(factory.django.DjangoModelFactory):
    """A day off of the centre's own (a Tuesday in 2030 unless told)."""

    class Meta:
        model = DayOff
        django_get_or_create = ("date",)

    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(weeks=n))
    name = "Ngày nghỉ của trung tâm"


class RegulationVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegulationVersion

    number = factory.Sequence(lambda n: f"QC-{n}")
    title = "Quy chế phân công quản lý, vận hành và khai thác dữ liệu camera"
    decision_reference = "Quyết định số 01/QĐ-UBND ngày 02/01/2026"
    effective_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule

    version = factory.SubFactory(RegulationVersionFactory)
    duty = AssignmentRule.Duty.APPROVE
    agency = factory.SubFactory(AgencyFactory)
    area = factory.SubFactory(ProvinceFactory)
