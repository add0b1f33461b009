"""Governance data in the Django admin, scoped like the regulation; every change written to the ledger.

Who may use it: the monitoring centre's system administrators (superusers,
and staff accounts holding the administrator role in a monitoring centre)
maintain the governance data and every account. An agency's own
administrator (a staff account holding the administrator role elsewhere)
sees only the users and role grants of its own agency, and grants only the
roles the regulation gives that agency. Objects outside a user's scope are
404, as on every other page. The role is the one source of truth for what a
person may do in this product; Django's per-model permissions would be a
second grant to keep in step with it, so these admins ignore them (a staff
account with model permissions but without the role sees nothing here).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import record_event
from audit.chain import canonical_json
from audit.models import Action
from governance import calendar
from governance.admin_strings import AdminScriptCatalog
from governance.imports import CameraImportError, camera_import_columns, camera_import_csv, camera_import_template
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    Camera,
    DataCategory,
    DayOff,
    LegalBasis,
    Membership,
    RecorderSite,
    RegulationVersion,
    Role,
    User,
)
from governance.permissions import (
    can_administer_governance,
    can_administer_users,
    can_manage_user,
    can_revoke_role,
    can_view_user,
    is_system_administrator,
    memberships_administered_by,
    role_grant_refusal,
    roles_grantable_by,
    users_administered_by,
)
from governance.selectors import regulation_in_force
from governance.services import (
    SnapshotNames,
    governance_record_deleted,
    governance_record_saved,
    legal_basis_revise,
    membership_grant,
    membership_revoke,
    membership_revoke_outside_agency,
    regulation_diff,
    regulation_draft_create,
    regulation_publish,
)


class NotFoundOutsideScope:
    """An object the user may not see is 404 on its change, delete, history and password pages, as everywhere else."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


class SystemAdministratorOnly(NotFoundOutsideScope):
    """Governance data: the monitoring centre's system administrators only, instead of Django's model permissions."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if can_administer_governance(request.user) else queryset.none()

    def has_module_permission(self, request):
        return can_administer_governance(request.user)

    def has_view_permission(self, request, obj=None):
        return can_administer_governance(request.user)

    # Inlines are asked with the parent object, model admins without it.
    def has_add_permission(self, request, *args):
        return can_administer_governance(request.user)

    def has_change_permission(self, request, obj=None):
        return can_administer_governance(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_administer_governance(request.user)


class AuditedAdmin:
    """Every save and delete through this admin, inline and many-to-many changes included, goes to the ledger."""

    # Never copied into the ledger, which anyone with audit access reads.
    audit_excluded_fields = frozenset({"password", "last_login"})

    def _audited_fields(self, form, change):
        if change:
            names = form.changed_data
        else:
            names = [f.name for f in form.instance._meta.concrete_fields if not f.primary_key]
        return [name for name in names if name not in self.audit_excluded_fields]

    def save_related(self, request, form, formsets, change):
        # The admin views wrap this in their transaction; the savepoint keeps
        # the change and its ledger event together when called from elsewhere.
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            fields = self._audited_fields(form, change)
            # A save that changed nothing on the object itself has nothing to record
            # (its inline changes, if any, were recorded one by one).
            if not change or fields:
                governance_record_saved(
                    actor=request.user, obj=form.instance, created=not change, changed_fields=fields, http_request=request
                )

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            # Record deletions while the rows still have their ids.
            for inline_form in formset.deleted_forms:
                if inline_form.instance.pk is not None:
                    governance_record_deleted(actor=request.user, obj=inline_form.instance, http_request=request)
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                governance_record_saved(actor=request.user, obj=obj, created=True, http_request=request)
            for obj, changed in formset.changed_objects:
                governance_record_saved(actor=request.user, obj=obj, created=False, changed_fields=changed, http_request=request)

    def delete_model(self, request, obj):
        with transaction.atomic():
            governance_record_deleted(actor=request.user, obj=obj, http_request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The "delete selected" action runs outside the admin's transaction.
        with transaction.atomic():
            for obj in queryset.iterator():
                governance_record_deleted(actor=request.user, obj=obj, http_request=request)
            super().delete_queryset(request, queryset)


class GovernanceAdmin(SystemAdministratorOnly, AuditedAdmin, admin.ModelAdmin):
    """A governance model: system administrators only, every change in the ledger."""


# Areas and agencies ------------------------------------------------------------


@admin.register(Area)
class AreaAdmin(GovernanceAdmin):
    list_display = ("code", "name_vi", "name_en", "level", "parent")
    list_filter = ("level",)
    list_select_related = ("parent",)
    search_fields = ("code", "name_vi", "name_en")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)

    def get_readonly_fields(self, request, obj=None):
        # Paths of the areas inside are built from these: they stay once an area has children.
        if obj is not None and obj.children.exists():
            return ("code", "level", "parent", "path")
        return self.readonly_fields


@admin.register(Agency)
class AgencyAdmin(GovernanceAdmin):
    list_display = ("code", "name_vi", "name_en", "kind", "parent", "area", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("parent", "area")
    search_fields = ("code", "name_vi", "name_en")
    autocomplete_fields = ("parent", "area")


# People and roles -----------------------------------------------------------------


class UserScoped(NotFoundOutsideScope):
    """Users and role grants: system administrators see all, an agency's administrator its own agency's."""

    def has_module_permission(self, request):
        return can_administer_users(request.user)


class MembershipInline(admin.TabularInline):
    """The user's roles, shown; granted and revoked on the membership pages so the ledger follows."""

    model = Membership
    fields = ("role", "agency", "granted_at")
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        return can_administer_users(request.user)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(UserScoped, AuditedAdmin, DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "agency", "position", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "agency__kind")
    list_select_related = ("agency",)
    search_fields = ("username", "first_name", "last_name", "email", "agency__code", "agency__name_vi")
    autocomplete_fields = ("agency",)
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "last_name", "email", "agency", "position")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "agency", "position", "is_staff"),
            },
        ),
    )
    # What an agency's own administrator edits: never the agency, staff status or anything above.
    agency_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "last_name", "email", "agency", "position")}),
        (gettext_lazy("Permissions"), {"fields": ("is_active", "is_staff")}),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    agency_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2", "position")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request) & users_administered_by(request.user)

    def has_view_permission(self, request, obj=None):
        return can_administer_users(request.user) if obj is None else can_view_user(request.user, obj)

    def has_add_permission(self, request, *args):
        return can_administer_users(request.user)

    def has_change_permission(self, request, obj=None):
        return can_administer_users(request.user) if obj is None else can_manage_user(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return can_administer_users(request.user) if obj is None else can_manage_user(request.user, obj)

    def get_list_filter(self, request):
        if is_system_administrator(request.user):
            return self.list_filter
        return ("is_staff", "is_active")

    def get_fieldsets(self, request, obj=None):
        if is_system_administrator(request.user):
            return super().get_fieldsets(request, obj)
        return self.agency_add_fieldsets if obj is None else self.agency_fieldsets

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_readonly_fields(self, request, obj=None):
        # Role groups follow memberships (granted through the membership
        # pages); only a superuser makes superusers or hands out raw permissions.
        readonly = ["groups", "last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        if not is_system_administrator(request.user):
            # An agency's administrator never moves anyone to another agency.
            readonly += ["agency", "is_staff"]
        return readonly

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(u) for u in objs if not can_manage_user(request.user, u)]
        return deleted, counts, perms_needed, protected

    def save_model(self, request, obj, form, change):
        if not is_system_administrator(request.user):
            if not change:
                obj.agency_id = request.user.agency_id
            if obj.agency_id != request.user.agency_id:
                raise PermissionDenied
        super().save_model(request, obj, form, change)
        if change and "agency" in form.changed_data:
            membership_revoke_outside_agency(actor=request.user, user=obj, http_request=request)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        with transaction.atomic():
            before = user.password
            response = super().user_change_password(request, id, form_url)
            after = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
            if after != before:
                # Not through governance_record_saved: that would copy the hash into the ledger.
                record_event(
                    actor=request.user,
                    action=Action.GOVERNANCE_UPDATE,
                    target=user,
                    data={"object": str(user), "fields": {"password": "changed"}, "by_administrator": True},
                    http_request=request,
                )
        return response


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role")

    actor = None  # set by the admin for each request

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.agency_id:
            raise ValidationError(_("The user belongs to no agency; set the agency before granting a role."))
        return user

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("user"), cleaned.get("role")
        if user is not None and role:
            reason = role_grant_refusal(self.actor, user, role)
            if reason:
                raise ValidationError(reason)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(UserScoped, admin.ModelAdmin):
    """Grants and revocations go through the membership services: role groups and ledger events follow."""

    form = MembershipForm
    list_display = ("user", "role", "agency", "granted_at")
    list_filter = ("role",)
    list_select_related = ("user", "agency")
    search_fields = ("user__username", "user__first_name", "user__last_name", "agency__code", "agency__name_vi")
    autocomplete_fields = ("user",)
    readonly_fields = ("agency", "granted_at")

    def get_queryset(self, request):
        return super().get_queryset(request) & memberships_administered_by(request.user)

    def get_fields(self, request, obj=None):
        return ("user", "role") if obj is None else ("user", "role", "agency", "granted_at")

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "POST":
            self._refuse_grant(request)
        return super().add_view(request, form_url, extra_context)

    def _refuse_grant(self, request):
        """A grant to an account out of sight is 404, one the actor may not make is refused; the form explains the rest."""
        user_id, role = request.POST.get("user", ""), request.POST.get("role", "")
        if not user_id.isdigit():
            return
        user = users_administered_by(request.user).select_related("agency").filter(pk=user_id).first()
        if user is None:
            raise Http404
        if role in Role.values and user.agency_id:
            reason = role_grant_refusal(request.user, user, role)
            if reason:
                raise PermissionDenied(reason)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # The choices the form accepts, not only those the search box offers.
            actor = request.user
            users = users_administered_by(actor).filter(agency__isnull=False)
            if not is_system_administrator(actor):
                users = users.exclude(memberships__role=Role.ADMINISTRATOR)
            kwargs["queryset"] = users.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not is_system_administrator(request.user):
            allowed = set(roles_grantable_by(request.user, request.user.agency))
            kwargs["choices"] = [("", "---------")] + [(value, label) for value, label in Role.choices if value in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return can_administer_users(request.user)
        return can_view_user(request.user, obj.user) and memberships_administered_by(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request, *args):
        return can_administer_users(request.user)

    # A membership is granted or revoked, never edited.
    def has_change_permission(self, request, obj=None):
        return obj is None and can_administer_users(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_administer_users(request.user) if obj is None else can_revoke_role(request.user, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(m) for m in objs if not can_revoke_role(request.user, m)]
        return deleted, counts, perms_needed, protected

    def save_model(self, request, obj, form, change):
        membership = membership_grant(actor=request.user, user=obj.user, role=obj.role, http_request=request)
        obj.pk, obj.agency, obj.granted_at = membership.pk, membership.agency, membership.granted_at

    def save_related(self, request, form, formsets, change):
        pass  # a membership has nothing related; membership_grant recorded it

    def delete_model(self, request, obj):
        membership_revoke(actor=request.user, membership=obj, http_request=request)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for membership in queryset.select_related("user", "agency"):
                membership_revoke(actor=request.user, membership=membership, http_request=request)


# Cameras -----------------------------------------------------------------------------


class DistrictFilter(admin.SimpleListFilter):
    """Cameras of one district and its wards: a short list where every ward would be thousands."""

    title = Area.Level.DISTRICT.label
    parameter_name = "district"

    def lookups(self, request, model_admin):
        return [(str(a.pk), a.name) for a in Area.objects.filter(level=Area.Level.DISTRICT).order_by("name_vi")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        district = Area.objects.filter(pk=value, level=Area.Level.DISTRICT).first() if value.isdigit() else None
        if district is None:
            return queryset.none()
        return queryset.filter(area__path__startswith=district.path)


class CameraImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


@admin.register(RecorderSite)
class RecorderSiteAdmin(GovernanceAdmin):
    list_display = ("code", "name", "queue", "area")
    list_select_related = ("area",)
    search_fields = ("code", "name", "queue")
    autocomplete_fields = ("area",)


@admin.register(Camera)
class CameraAdmin(GovernanceAdmin):
    list_display = ("code", "name", "kind", "status", "area", "managing_agency", "retention_days", "updated_at")
    list_filter = ("kind", "status", DistrictFilter, "site", "has_plate_events", "has_face_events")
    list_select_related = ("area", "managing_agency")
    # Counting 40,000 rows on every page load is the slow part of a changelist.
    show_full_result_count = False
    search_fields = ("code", "name", "address")
    autocomplete_fields = ("area", "managing_agency")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "status")}),
        (gettext_lazy("Location"), {"fields": ("area", "address", "latitude", "longitude")}),
        (
            gettext_lazy("Data"),
            {"fields": ("managing_agency", "has_video", "has_plate_events", "has_face_events", "retention_days")},
        ),
        (gettext_lazy("Source"), {"fields": ("site", "source_url", "credential_ref", "updated_at")}),
    )

    def get_urls(self):
        urls = [
            path("import/", self.admin_site.admin_view(self.import_view), name="governance_camera_import"),
            path(
                "import/template/",
                self.admin_site.admin_view(self.import_template_view),
                name="governance_camera_import_template",
            ),
        ]
        return urls + super().get_urls()

    def _ensure_can_import(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied

    def import_template_view(self, request):
        self._ensure_can_import(request)
        response = HttpResponse(camera_import_template(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mau-nhap-camera.csv"'
        return response

    def import_view(self, request):
        self._ensure_can_import(request)
        errors = []
        if request.method == "POST":
            form = CameraImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    result = camera_import_csv(actor=request.user, file=form.cleaned_data["file"], http_request=request)
                except CameraImportError as exc:
                    errors = [{"line": line, "message": message} for line, message in exc.errors]
                else:
                    messages.success(
                        request,
                        _("%(rows)s rows imported: %(created)s cameras created, %(updated)s updated, %(unchanged)s unchanged.")
                        % {
                            "rows": result.rows,
                            "created": result.created,
                            "updated": result.updated,
                            "unchanged": result.unchanged,
                        },
                    )
                    return redirect("admin:governance_camera_changelist")
        else:
            form = CameraImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import cameras from CSV"),
            "form": form,
            "errors": errors,
            "columns": camera_import_columns(),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/governance/camera/import.html", context)


# Data categories and legal bases ---------------------------------------------------


@admin.register(DataCategory)
class DataCategoryAdmin(GovernanceAdmin):
    list_display = ("code", "name_vi", "name_en", "sensitivity")
    list_filter = ("sensitivity",)
    search_fields = ("code", "name_vi", "name_en")

    # A category a published basis allows keeps its code and sensitivity, and stays (DataCategory.ensure_unpublished).
    def _published(self, obj):
        return obj is not None and obj.pk is not None and obj.published_bases().exists()

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, *DataCategory.FIXED_WHEN_PUBLISHED) if self._published(obj) else readonly

    def has_delete_permission(self, request, obj=None):
        return not self._published(obj) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(c) for c in objs if self._published(c)]
        return deleted, counts, perms_needed, protected


class LegalBasisForm(forms.ModelForm):
    # Stored as a list of agency kind codes; chosen with one box per kind.
    requester_kinds = forms.TypedMultipleChoiceField(
        label=gettext_lazy("typical requesting agency kinds"),
        choices=Agency.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Agency kinds that usually cite this basis."),
    )
    redaction_agency_kinds = forms.TypedMultipleChoiceField(
        label=gettext_lazy("agency kinds given only redacted copies"),
        choices=Agency.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("A request of an agency of these kinds under this basis is released only as redacted copies."),
    )

    class Meta:
        model = LegalBasis
        fields = (
            "code",
            "title_vi",
            "title_en",
            "citation",
            "notes",
            "verified",
            "allowed_categories",
            "requester_kinds",
            "case_number_required",
            "case_number_label_vi",
            "case_number_label_en",
            "max_window_hours",
            "max_cameras",
            "approvals_required",
            "deadline_hours_normal",
            "deadline_hours_urgent",
            "deadline_hours_emergency",
            "deadline_unit",
            "data_subject_access",
            "redaction_categories",
            "redaction_agency_kinds",
            "valid_from",
            "valid_to",
        )


@admin.register(LegalBasis)
class LegalBasisAdmin(GovernanceAdmin):
    """Legal bases. A basis a published regulation holds is fixed: it changes as a new edition in a draft version."""

    form = LegalBasisForm
    list_display = ("code", "title_vi", "citation", "verified", "approvals_required", "deadline_unit", "valid_from", "valid_to")
    list_filter = ("verified", "case_number_required", "approvals_required", "deadline_unit")
    search_fields = ("code", "title_vi", "title_en", "citation")
    filter_horizontal = ("allowed_categories", "redaction_categories")
    readonly_fields = ("supersedes",)

    def _published(self, obj):
        return obj is not None and obj.pk is not None and obj.published_versions().exists()

    @admin.display(description=gettext_lazy("typical requesting agency kinds"))
    def requester_kinds_labels(self, obj):
        labels = dict(Agency.Kind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in obj.requester_kinds) or "—"

    @admin.display(description=gettext_lazy("agency kinds given only redacted copies"))
    def redaction_agency_kinds_labels(self, obj):
        labels = dict(Agency.Kind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in obj.redaction_agency_kinds) or "—"

    # Read only, the agency kinds are read in words, not as the list of codes stored.
    LABELLED = {"requester_kinds": "requester_kinds_labels", "redaction_agency_kinds": "redaction_agency_kinds_labels"}

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._published(obj):
            fields = [self.LABELLED.get(name, name) for name in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, *self.LABELLED.values()) if self._published(obj) else readonly

    def has_change_permission(self, request, obj=None):
        return not self._published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._published(obj) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(b) for b in objs if self._published(b)]
        return deleted, counts, perms_needed, protected

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/revise/",
                self.admin_site.admin_view(self.revise_view),
                name="governance_legalbasis_revise",
            )
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        basis = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if basis is not None and self._published(basis):
            drafts = RegulationVersion.objects.filter(status=RegulationVersion.Status.DRAFT).order_by("-pk")
            published = list(basis.published_versions().order_by("effective_from"))
            extra_context |= {
                "published_versions": published,
                "published_numbers": ", ".join(v.number for v in published),
                "drafts": drafts,
                "editions": LegalBasis.objects.filter(supersedes=basis).prefetch_related("regulation_versions"),
                "can_revise": super().has_change_permission(request, basis),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def revise_view(self, request, object_id):
        """POST: a new edition of a published basis in the chosen draft version (or in a new draft)."""
        basis = self.get_object(request, unquote(object_id))
        if basis is None:
            raise Http404
        # Only a published basis is revised this way; any other is edited in place.
        if request.method != "POST" or not super().has_change_permission(request, basis) or not self._published(basis):
            raise PermissionDenied
        choice = request.POST.get("draft", "")
        if choice == "new":
            draft = None
        else:
            # A plain number of a sane length, or nothing ("²" is a digit to Python, not an id).
            draft_id = int(choice) if choice.isascii() and choice.isdigit() and len(choice) <= 18 else None
            draft = RegulationVersion.objects.filter(pk=draft_id, status=RegulationVersion.Status.DRAFT).first()
            if draft is None:
                messages.error(request, _("Choose a draft version, or start a new one."))
                return redirect(reverse("admin:governance_legalbasis_change", args=[basis.pk]))
        try:
            with transaction.atomic():
                if draft is None:
                    draft = regulation_draft_create(actor=request.user, http_request=request)
                edition = legal_basis_revise(actor=request.user, basis=basis, draft=draft, http_request=request)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(reverse("admin:governance_legalbasis_change", args=[basis.pk]))
        messages.success(
            request,
            _(
                "The new edition %(code)s replaces %(previous)s in the draft version %(number)s. Change it here; it takes "
                "effect when that version is published."
            )
            % {"code": edition.code, "previous": basis.code, "number": draft.number},
        )
        return redirect(reverse("admin:governance_legalbasis_change", args=[edition.pk]))


# Working days ------------------------------------------------------------------------


@admin.register(DayOff)
class DayOffAdmin(GovernanceAdmin):
    """The centre's own days off (and worked weekend days); Vietnam's public holidays come with the calendar."""

    list_display = ("date", "name", "is_working_day")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "date"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        transaction.on_commit(calendar.forget)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(calendar.forget)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(calendar.forget)


# Regulation versions and assignment rules ---------------------------------------------


def _is_published(version):
    return version is not None and version.pk is not None and version.is_published


class AssignmentRuleInline(SystemAdministratorOnly, admin.TabularInline):
    model = AssignmentRule
    fields = ("duty", "agency", "area", "data_category")
    autocomplete_fields = ("agency", "area")
    extra = 0

    # `obj` is the regulation version the rules belong to.
    def has_add_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)


@admin.register(RegulationVersion)
class RegulationVersionAdmin(GovernanceAdmin):
    list_display = ("number", "title", "effective_from", "status", "published_at", "published_by")
    list_filter = ("status",)
    list_select_related = ("published_by",)
    search_fields = ("number", "title", "decision_reference")
    filter_horizontal = ("legal_bases",)
    readonly_fields = ("status", "published_at", "published_by", "snapshot_sha256")
    exclude = ("snapshot",)
    inlines = (AssignmentRuleInline,)
    actions = ("publish_selected",)

    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # "Delete selected" asks without an object: name published versions as protected so nothing is deleted.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(v) for v in objs if _is_published(v)]
        return deleted, counts, perms_needed, protected

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="governance_regulationversion_publish",
            ),
            path(
                "<path:object_id>/draft/",
                self.admin_site.admin_view(self.draft_view),
                name="governance_regulationversion_draft",
            ),
            path(
                "<path:object_id>/content.json",
                self.admin_site.admin_view(self.content_view),
                name="governance_regulationversion_content",
            ),
        ]
        return urls + super().get_urls()

    def draft_view(self, request, object_id):
        """POST: a new draft holding what this version holds, to revise it."""
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404
        if request.method != "POST" or not super().has_change_permission(request, version):
            raise PermissionDenied
        draft = regulation_draft_create(actor=request.user, base=version, http_request=request)
        messages.success(
            request,
            _("Draft version %(number)s holds the legal bases and assignments of %(base)s; revise it, then publish it.")
            % {"number": draft.number, "base": version.number},
        )
        return redirect(reverse("admin:governance_regulationversion_change", args=[draft.pk]))

    def content_view(self, request, object_id):
        """The published content exactly as hashed: its SHA-256 is the one the version records."""
        version = self.get_object(request, unquote(object_id))
        if version is None or not version.is_published or not self.has_view_permission(request, version):
            raise Http404
        response = HttpResponse(canonical_json(version.snapshot).encode(), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="quy-che-{version.pk}.json"'
        return response

    def _publish(self, request, version):
        try:
            regulation_publish(actor=request.user, version=version, http_request=request)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return False
        messages.success(request, _("Version %(number)s is published.") % {"number": version.number})
        return True

    def publish_view(self, request, object_id):
        version = self.get_object(request, unquote(object_id))
        if request.method != "POST" or not self.has_change_permission(request, version):
            raise PermissionDenied
        self._publish(request, version)
        return redirect(reverse("admin:governance_regulationversion_change", args=[version.pk]))

    @admin.action(description=gettext_lazy("Publish the selected versions"))
    def publish_selected(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        for version in queryset:
            self._publish(request, version)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, unquote(object_id))
        if version is not None and _is_published(version) and self.has_view_permission(request, version):
            if request.method != "GET":
                raise PermissionDenied
            return self.published_view(request, version)
        extra_context = {**(extra_context or {}), "can_publish": version is not None and not _is_published(version)}
        if version is not None:
            # What publishing this draft would change, against the version in force.
            extra_context["diff"] = regulation_diff(version, previous=regulation_in_force())
        return super().change_view(request, object_id, form_url, extra_context)

    def published_view(self, request, version):
        """A published version as a document to read: its content, who published it, and what it changed."""
        content = version.snapshot
        names = SnapshotNames()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Regulation version %(number)s") % {"number": version.number},
            "version": version,
            "content": content,
            "bases": [
                {
                    **entry,
                    "categories_text": names.show("allowed_categories", entry["allowed_categories"]),
                    "unit_label": names.show("deadline_unit", entry.get("deadline_unit", "calendar_hours")),
                    "valid_text": " – ".join(
                        (
                            names.show("valid_from", entry["valid_from"]),
                            names.show("valid_to", entry["valid_to"]) if entry["valid_to"] else _("No end date"),
                        )
                    ),
                }
                for entry in content["legal_bases"]
            ],
            "rules": sorted((names.rule(r) for r in content["rules"]), key=lambda r: (r["duty"], r["area"], r["agency"])),
            "diff": regulation_diff(version, names=names),
            "can_draft": super().has_change_permission(request, version),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/governance/regulationversion/published.html", context)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(GovernanceAdmin):
    list_display = ("version", "duty", "agency", "area", "data_category")
    list_filter = ("duty", "version", "data_category")
    list_select_related = ("version", "agency", "area", "data_category")
    search_fields = ("agency__code", "agency__name_vi", "area__code", "area__name_vi", "version__number")
    autocomplete_fields = ("agency", "area")

    def has_change_permission(self, request, obj=None):
        return not (obj is not None and _is_published(obj.version)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and _is_published(obj.version)) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected) + [str(r) for r in objs if _is_published(r.version)]
        return deleted, counts, perms_needed, protected

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            # Rules are added to drafts only; a published version is closed.
            kwargs["queryset"] = RegulationVersion.objects.filter(status=RegulationVersion.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# Role groups are granted through memberships only; editing them directly
# would bypass the ledger.
admin.site.unregister(Group)

# The console carries the product's name (templates/includes/nav.html), not Django's.
admin.site.site_header = gettext_lazy("Camera data governance administration")
admin.site.site_title = gettext_lazy("Camera data governance")
admin.site.index_title = gettext_lazy("Governance data and accounts")
# The admin's scripts take the texts Django's Vietnamese lacks from the project's catalogue too.
admin.site.i18n_javascript = AdminScriptCatalog.as_view()
