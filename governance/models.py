"""The regulation as data: who manages which cameras, who may obtain what."""

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from governance.validators import validate_camera_code, validate_source_url


class BilingualMixin:
    """Pick the Vietnamese or English column of a pair for the active language."""

    def _bilingual(self, field):
        english = (get_language() or "vi").startswith("en")
        value = getattr(self, f"{field}_en") if english else ""
        return value or getattr(self, f"{field}_vi")


class Role(models.TextChoices):
    REQUESTER = "requester", _("Requesting officer")
    REVIEWER = "reviewer", _("Reviewer")
    APPROVER = "approver", _("Approving official")
    CUSTODIAN = "custodian", _("Custodian (operator)")
    AUDITOR = "auditor", _("Auditor (oversight)")
    ADMINISTRATOR = "administrator", _("Administrator")


class Agency(BilingualMixin, models.Model):
    class Kind(models.TextChoices):
        WARD_POLICE = "ward_police", _("Ward/commune police")
        TRAFFIC_POLICE = "traffic_police", _("Traffic police")
        CRIMINAL_POLICE = "criminal_police", _("Criminal police")
        PROCURACY = "procuracy", _("Procuracy")
        COURT = "court", _("Court")
        PEOPLES_COMMITTEE = "peoples_committee", _("People's committee")
        MONITORING_CENTRE = "monitoring_centre", _("Monitoring centre")
        INSPECTORATE = "inspectorate", _("Inspectorate / oversight body")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    area = models.ForeignKey(
        "Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="agencies"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_vi"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self._bilingual("name")


# A service account files and follows requests, or reads the ledger; it never reviews, decides, exports or administers
# (those stay with people who passed the second factor).
SERVICE_ACCOUNT_ROLES = (Role.REQUESTER, Role.AUDITOR)


def display_name(last_name, first_name, username):
    """A person's name as the interface shows it, from the columns alone (lists read them without loading users).

    Vietnamese order: family name first ("Nguyễn Thị Hương")."""
    return f"{last_name} {first_name}".strip() or username


class User(AbstractUser):
    """A person who signs in. Belongs to at most one agency (none for staff accounts)."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    position = models.CharField(_("position"), max_length=120, blank=True)
    # A machine identity of its agency (an agency case system, a recorder): it signs in with API tokens only, never
    # with a password, and may hold only SERVICE_ACCOUNT_ROLES.
    is_service_account = models.BooleanField(_("service account"), default=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self):
        return display_name(self.last_name, self.first_name, self.username)

    def _read_access(self):
        """Read the user's roles (each with the agency it is held in) and role group ids in one query, cached on the
        instance: nearly every page asks for both."""
        memberships = Membership.objects.filter(user_id=self.pk).order_by()
        memberships = memberships.values_list("role", "agency_id", models.Value(None, output_field=models.IntegerField()))
        groups = User.groups.through.objects.filter(user_id=self.pk).order_by()
        groups = groups.values_list(
            models.Value("", output_field=models.CharField()),
            models.Value(None, output_field=models.BigIntegerField()),
            "group_id",
        )
        held, group_ids = [], []
        for role, agency_id, group_id in memberships.union(groups, all=True):
            if role:
                held.append((role, agency_id))
            else:
                group_ids.append(group_id)
        self._held_roles = tuple(held)
        self._role_cache = frozenset(role for role, _agency in held)
        self._group_id_cache = tuple(group_ids)

    def adopt_access(self, held, group_ids):
        """Take the roles and role groups read with the user's own row (`access_annotations`): "role:agency,…" and
        "id,…" as the database joined them, or None for none."""
        pairs = [entry.rsplit(":", 1) for entry in (held or "").split(",") if entry]
        self._held_roles = tuple(sorted((role, int(agency_id)) for role, agency_id in pairs))
        self._role_cache = frozenset(role for role, _agency in self._held_roles)
        self._group_id_cache = tuple(sorted(int(group_id) for group_id in (group_ids or "").split(",") if group_id))

    def role_set(self):
        """The roles this user holds in their agency (cached on the instance)."""
        if not hasattr(self, "_role_cache"):
            self._read_access()
        return self._role_cache

    def has_role(self, *roles):
        return bool(self.role_set() & set(roles))

    def holds_role_in(self, role, agency_id):
        """Whether the user holds `role` in the agency `agency_id` (read with the roles)."""
        if not hasattr(self, "_held_roles"):
            self._read_access()
        return (role, agency_id) in self._held_roles

    def group_ids(self):
        """The ids of the role groups this user is in (cached on the instance, like the roles: one read per page)."""
        if not hasattr(self, "_group_id_cache"):
            self._read_access()
        return self._group_id_cache

    def forget_roles(self):
        """Drop what this instance cached about its roles (after a grant or a revocation)."""
        for name in ("_role_cache", "_held_roles", "_system_admin_cache", "_group_id_cache"):
            self.__dict__.pop(name, None)


def joined_text(vendor, expression):
    """SQL joining `expression` over a subquery's rows with commas, NULL for none (PostgreSQL and SQLite)."""
    return ("string_agg({}, ',')" if vendor == "postgresql" else "group_concat({}, ',')").format(expression)


def access_annotations(vendor):
    """The user's roles (each with its agency) and role group ids, joined into one text each, as annotations of the
    user's own row: the page's user is read with what nearly every page asks of it, in one query (`adopt_access`)."""
    user = User._meta.db_table
    memberships = Membership._meta.db_table
    groups = User.groups.through._meta.db_table
    held = joined_text(vendor, "m.role || ':' || CAST(m.agency_id AS TEXT)")
    group_ids = joined_text(vendor, "CAST(g.group_id AS TEXT)")
    # Table names from the models, no input: nothing to bind.
    held_sql = f'SELECT {held} FROM "{memberships}" m WHERE m.user_id = "{user}"."id"'  # noqa: S608
    groups_sql = f'SELECT {group_ids} FROM "{groups}" g WHERE g.user_id = "{user}"."id"'  # noqa: S608
    return {
        "access_held": models.expressions.RawSQL(held_sql, (), output_field=models.TextField()),  # noqa: S611
        "access_groups": models.expressions.RawSQL(groups_sql, (), output_field=models.TextField()),  # noqa: S611
    }


class Membership(models.Model):
    """A user holds a role in their agency; realised as a guardian group per agency and role."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="membership_user_role_unique")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.agency}"


def role_group_name(agency, role):
    return f"agency:{agency.code}:{role}"


class Area(BilingualMixin, models.Model):
    """Province → district → ward/commune. `path` makes subtree queries one index range."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province/city")
        DISTRICT = "district", _("District")
        WARD = "ward", _("Ward/commune")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent area"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self._bilingual("name")

    def compute_path(self):
        return f"{self.parent.path}{self.code}/" if self.parent_id else f"{self.code}/"

    def clean(self):
        expected_parent = {
            self.Level.PROVINCE: None,
            self.Level.DISTRICT: self.Level.PROVINCE,
            self.Level.WARD: self.Level.DISTRICT,
        }
        wanted = expected_parent.get(self.level)
        if wanted is None and self.parent_id:
            raise ValidationError({"parent": _("A province has no parent area.")})
        if wanted is not None and (not self.parent_id or self.parent.level != wanted):
            raise ValidationError(
                {"parent": _("This level of area must sit under a %(level)s.") % {"level": self.Level(wanted).label}}
            )

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def covers(self, other):
        """True when `other` is this area or lies inside it."""
        return other.path.startswith(self.path)


class DataCategory(BilingualMixin, models.Model):
    class Sensitivity(models.TextChoices):
        BASIC = "basic", _("Basic personal data")
        SENSITIVE = "sensitive", _("Sensitive personal data")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    sensitivity = models.CharField(_("sensitivity"), max_length=10, choices=Sensitivity.choices)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self._bilingual("name")

    @property
    def is_sensitive(self):
        return self.sensitivity == self.Sensitivity.SENSITIVE

    # What a published regulation allows is read through its categories: the code and the sensitivity of a category
    # a published basis allows are fixed with it (the names may still be corrected), and the category stays.
    FIXED_WHEN_PUBLISHED = ("code", "sensitivity")

    def published_bases(self):
        return LegalBasis.objects.filter(
            allowed_categories=self.pk, regulation_versions__status=RegulationVersion.Status.PUBLISHED
        ).distinct()

    def ensure_unpublished(self) -> None:
        basis = self.published_bases().first() if self.pk else None
        if basis is not None:
            raise RegulationImmutable(
                _(
                    "The data category %(code)s is allowed by the legal basis %(basis)s of a published regulation: "
                    "its code and sensitivity can no longer change, and it cannot be deleted."
                )
                % {"code": self.code, "basis": basis.code}
            )

    def save(self, *args, **kwargs):
        if self.pk:
            stored = DataCategory.objects.filter(pk=self.pk).values(*self.FIXED_WHEN_PUBLISHED).first()
            if stored and any(stored[name] != getattr(self, name) for name in self.FIXED_WHEN_PUBLISHED):
                self.ensure_unpublished()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_unpublished()
        return super().delete(*args, **kwargs)


validate_queue_name = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
    _("A queue name is letters, digits, '.', '-' and '_', starting with a letter or a digit."),
)


class RecorderSite(models.Model):
    """Where a camera's recordings sit (a district's or a centre's recorders), and the queue its export worker reads.

    The central application never opens footage: a camera's clips are cut by a worker at its site, started with
    ``celery worker --queues <queue>`` on a machine that mounts that site's recordings. A camera with no site is
    exported by the workers of the default queue."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[validate_camera_code],
        help_text=_("Letters, digits, '-' and '_' only."),
    )
    name = models.CharField(_("name"), max_length=200)
    queue = models.CharField(
        _("export queue"),
        max_length=100,
        unique=True,
        validators=[validate_queue_name],
        help_text=_("The Celery queue this site's export workers read (celery worker --queues …)."),
    )
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("recorder site")
        verbose_name_plural = _("recorder sites")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def clean(self):
        from django.conf import settings

        if self.queue == settings.CELERY_TASK_DEFAULT_QUEUE:
            raise ValidationError(
                {"queue": _("This is the default queue, whose workers do not mount this site's recordings: name the site's own.")}
            )


class Camera(models.Model):
    class Kind(models.TextChoices):
        PTZ = "ptz", _("PTZ")
        FIXED = "fixed", _("Fixed")
        ANPR = "anpr", _("Plate recognition (ANPR)")
        FACE = "face", _("Face recognition")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In operation")
        MAINTENANCE = "maintenance", _("Under maintenance")
        OFFLINE = "offline", _("Offline")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[validate_camera_code],
        help_text=_("Letters, digits, '-' and '_' only."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="cameras")
    managing_agency = models.ForeignKey(
        Agency, verbose_name=_("managing agency"), on_delete=models.PROTECT, related_name="managed_cameras"
    )
    address = models.CharField(_("location"), max_length=255, blank=True)
    site = models.ForeignKey(
        RecorderSite,
        verbose_name=_("recorder site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cameras",
        help_text=_("Where its recordings sit; empty: exported by the workers of the default queue."),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    has_video = models.BooleanField(_("records video"), default=True)
    has_plate_events = models.BooleanField(_("plate events"), default=False)
    has_face_events = models.BooleanField(_("face events"), default=False)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source_url = models.CharField(
        _("source address"),
        max_length=255,
        blank=True,
        validators=[validate_source_url],
        help_text=_("Stream or recorder address without user name or password."),
    )
    credential_ref = models.CharField(
        _("credential reference"),
        max_length=120,
        blank=True,
        help_text=_("Name of the secret holding the credentials, kept outside the database."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["area", "code"], name="camera_area_code"),
            models.Index(fields=["managing_agency", "code"], name="camera_agency_code"),
            models.Index(fields=["status", "code"], name="camera_status_code"),
            models.Index(fields=["kind", "code"], name="camera_kind_code"),
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def capability_codes(self):
        """Data category codes this camera can produce."""
        codes = []
        if self.has_video:
            codes += ["video", "still_image"]
        if self.has_plate_events:
            codes.append("plate_events")
        if self.has_face_events:
            codes.append("face_events")
        return codes


class DeadlineUnit(models.TextChoices):
    """What a legal basis's response deadlines count (governance.calendar computes them)."""

    CALENDAR_HOURS = "calendar_hours", _("calendar hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class LegalBasis(BilingualMixin, models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=255)
    title_en = models.CharField(_("title (English)"), max_length=255, blank=True)
    citation = models.CharField(_("citation"), max_length=500)
    notes = models.TextField(_("notes"), blank=True)
    verified = models.BooleanField(
        _("citation verified"), default=False, help_text=_("Set once the article text has been read and confirmed.")
    )
    allowed_categories = models.ManyToManyField(DataCategory, verbose_name=_("allowed data categories"), related_name="+")
    requester_kinds = models.JSONField(
        _("typical requesting agency kinds"), default=list, blank=True, help_text=_("Agency kinds that usually cite this basis.")
    )
    case_number_required = models.BooleanField(_("case/document number required"), default=False)
    case_number_label_vi = models.CharField(_("case reference label (Vietnamese)"), max_length=200, blank=True)
    case_number_label_en = models.CharField(_("case reference label (English)"), max_length=200, blank=True)
    max_window_hours = models.PositiveIntegerField(_("maximum window (hours)"), default=24)
    max_cameras = models.PositiveIntegerField(_("maximum cameras"), default=10)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    # The amounts are in `deadline_unit`: hours, or days when it counts working days.
    deadline_hours_normal = models.PositiveIntegerField(_("response deadline, normal"), default=120)
    deadline_hours_urgent = models.PositiveIntegerField(_("response deadline, urgent"), default=24)
    deadline_hours_emergency = models.PositiveIntegerField(_("response deadline, emergency"), default=2)
    deadline_unit = models.CharField(
        _("deadlines counted in"),
        max_length=20,
        choices=DeadlineUnit.choices,
        default=DeadlineUnit.CALENDAR_HOURS,
        help_text=_(
            "As the legal basis says. Calendar hours run day and night; working hours and working days count only "
            "working time (Monday to Friday in working hours, without public holidays and the centre's days off). "
            "A deadline in working days ends when working hours end on its last day."
        ),
    )
    # Personal data (Law 91/2025/QH15): the basis a person cites to ask for footage of themselves, and the releases
    # under this basis that must be redacted copies (for these data categories, or for requests of these agency kinds).
    data_subject_access = models.BooleanField(
        _("a person's request for their own data"),
        default=False,
        help_text=_("Filed at the centre's counter for a person asking for footage of themselves; always released redacted."),
    )
    redaction_categories = models.ManyToManyField(
        DataCategory, verbose_name=_("data categories released only redacted"), related_name="+", blank=True
    )
    redaction_agency_kinds = models.JSONField(_("agency kinds given only redacted copies"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("new edition of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="editions",
        editable=False,
        help_text=_("The basis in a published regulation this one replaces in a draft version."),
    )

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="legal_basis_valid_range",
            ),
            models.CheckConstraint(condition=Q(approvals_required__gte=1), name="legal_basis_min_one_approval"),
        ]

    def __str__(self):
        return f"{self.code} — {self.title}"

    @property
    def title(self):
        return self._bilingual("title")

    @property
    def case_number_label(self):
        return self._bilingual("case_number_label")

    def clean(self):
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity cannot be before its start.")})

    def published_versions(self):
        return RegulationVersion.objects.filter(legal_bases=self.pk, status=RegulationVersion.Status.PUBLISHED)

    # A basis a published regulation applied is part of that record: it changes only as a new edition in a draft
    # version (governance.services.legal_basis_revise), whichever code path attempts the write.
    def ensure_editable(self) -> None:
        """Raise RegulationImmutable when a published regulation version holds this basis (in the database)."""
        if self.pk is None:
            return
        published = self.published_versions().order_by("effective_from").first()
        if published is not None:
            raise RegulationImmutable(
                _(
                    "The legal basis %(code)s is part of the published regulation %(number)s and can no longer change; "
                    "revise it in a draft regulation version."
                )
                % {"code": self.code, "number": published.number}
            )

    def save(self, *args, **kwargs):
        self.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    def is_valid_on(self, day):
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def deadline_amount(self, urgency: str) -> int:
        """The response deadline for an urgency ("normal", "urgent" or "emergency"), in `deadline_unit`."""
        return {
            "normal": self.deadline_hours_normal,
            "urgent": self.deadline_hours_urgent,
            "emergency": self.deadline_hours_emergency,
        }[urgency]


class DayOff(models.Model):
    """A day the centre itself does not work, beyond Vietnam's public holidays; or, flagged, a weekend day it works.

    The flag is for the Saturdays the government moves a working day to when it
    lengthens a holiday (a compensatory working day).
    """

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_working_day = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Tick for a day the centre works although it is a weekend day or a public holiday."),
    )

    class Meta:
        verbose_name = _("centre day off")
        verbose_name_plural = _("centre days off")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} — {self.name}"


class RegulationImmutable(ValidationError):
    """A write to a published regulation version or its rules: published versions never change."""


class RegulationVersion(models.Model):
    """The whole rule set, published with an effective date; published versions never change."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    number = models.CharField(_("version number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=255)
    decision_reference = models.CharField(
        _("issuing decision"), max_length=200, blank=True, help_text=_("Number and date of the decision that issues it.")
    )
    effective_from = models.DateTimeField(_("effective from"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    legal_bases = models.ManyToManyField(
        LegalBasis, verbose_name=_("legal bases in force"), related_name="regulation_versions", blank=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        User, verbose_name=_("published by"), null=True, blank=True, on_delete=models.PROTECT, editable=False, related_name="+"
    )
    snapshot = models.JSONField(_("published content"), null=True, blank=True, editable=False)
    snapshot_sha256 = models.CharField(_("content SHA-256"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("regulation version")
        verbose_name_plural = _("regulation versions")
        ordering = ["-effective_from"]

    def __str__(self):
        return f"{self.number} — {self.title}"

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    # A published version is the record of what was in force: refuse any
    # write through the ORM, whichever code path attempts it.
    def ensure_editable(self) -> None:
        """Raise RegulationImmutable when this version is published in the database (not merely in memory)."""
        if self.pk and RegulationVersion.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists():
            raise RegulationImmutable(_("Version %(number)s is published and can no longer change.") % {"number": self.number})

    def save(self, *args, **kwargs):
        self.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)


class AssignmentRule(models.Model):
    """Phân công: an agency's role reviews / approves / exports for an area and data category."""

    class Duty(models.TextChoices):
        REVIEW = "review", _("Review")
        APPROVE = "approve", _("Approve")
        EXPORT = "export", _("Export")

    version = models.ForeignKey(
        RegulationVersion, verbose_name=_("regulation version"), on_delete=models.CASCADE, related_name="rules"
    )
    duty = models.CharField(_("duty"), max_length=10, choices=Duty.choices)
    agency = models.ForeignKey(
        Agency, verbose_name=_("assigned agency"), on_delete=models.PROTECT, related_name="assignment_rules"
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="assignment_rules",
        help_text=_("Covers this area and every area inside it."),
    )
    data_category = models.ForeignKey(
        DataCategory,
        verbose_name=_("data category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means every category."),
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        constraints = [
            models.UniqueConstraint(fields=["version", "duty", "agency", "area", "data_category"], name="assignment_rule_unique")
        ]

    def __str__(self):
        category = self.data_category or _("all categories")
        return f"{self.get_duty_display()}: {self.agency} — {self.area} — {category}"

    def save(self, *args, **kwargs):
        self.version.ensure_editable()
        if self.pk:
            previous = AssignmentRule.objects.filter(pk=self.pk).select_related("version").first()
            if previous is not None:
                previous.version.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.version.ensure_editable()
        return super().delete(*args, **kwargs)

    @staticmethod
    def role_for_duty(duty):
        return {
            AssignmentRule.Duty.REVIEW: Role.REVIEWER,
            AssignmentRule.Duty.APPROVE: Role.APPROVER,
            AssignmentRule.Duty.EXPORT: Role.CUSTODIAN,
        }[duty]


# Object permissions on agencies live in direct foreign-key tables, never in
# guardian's generic table (which grows with every object of every model).
class AgencyUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


class AgencyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


__all__ = [
    "Agency",
    "AgencyGroupObjectPermission",
    "AgencyUserObjectPermission",
    "Area",
    "AssignmentRule",
    "Camera",
    "DataCategory",
    "DayOff",
    "DeadlineUnit",
    "Group",
    "LegalBasis",
    "Membership",
    "RegulationVersion",
    "Role",
    "User",
]


# Many-to-many writes bypass save(): the categories of a published basis and the bases of a published version are
# guarded here.


@receiver(m2m_changed, sender=LegalBasis.allowed_categories.through)
def _published_basis_categories_are_fixed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    bases = LegalBasis.objects.filter(pk__in=pk_set or ()) if reverse else [instance]
    if reverse and action == "pre_clear":
        bases = LegalBasis.objects.filter(allowed_categories=instance)
    for basis in bases:
        basis.ensure_editable()


@receiver(m2m_changed, sender=RegulationVersion.legal_bases.through)
def _published_version_bases_are_fixed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if reverse:
        versions = (
            instance.regulation_versions.all() if action == "pre_clear" else RegulationVersion.objects.filter(pk__in=pk_set or ())
        )
    else:
        versions = [instance]
    for version in versions:
        version.ensure_editable()


@receiver(pre_delete, sender=DataCategory)
def _published_categories_stay(sender, instance, **kwargs):
    # A queryset's delete (the admin's "delete selected") does not call the model's delete().
    instance.ensure_unpublished()
