"""Admin: devices are never edited here (recovery is the logged reset on the sign-in security page), and lock-outs
are lifted by system administrators only, each unlock in the ledger."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential

from accounts.permissions import is_system_administrator
from accounts.signin import signin_unlock

# The packages' own pages would show authenticator secrets and let any staff account delete another's devices
# without a trace.
for model in (TOTPDevice, StaticDevice, WebAuthnCredential, WebAuthnAttestation, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


# django-axes names its section "Axes", a word no Vietnamese (or English) reader of the console knows.
apps.get_app_config("axes").verbose_name = gettext_lazy("Sign-in lock-outs")


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """Failed sign-ins counted by axes; deleting a row unlocks its account and address (in the ledger)."""

    fieldsets = ((None, {"fields": ("username", "ip_address", "user_agent", "path_info", "failures_since_start")}),)
    readonly_fields = fieldsets[0][1]["fields"]

    @admin.display(description=gettext_lazy("Status"))
    def status(self, obj):
        return super().status(obj)

    def has_module_permission(self, request):
        return is_system_administrator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_system_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_system_administrator(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        signin_unlock(
            actor=request.user,
            username=obj.username or "",
            address="" if obj.username else obj.ip_address or "",
            http_request=request,
        )
        obj.delete()

    def delete_queryset(self, request, queryset):
        for attempt in list(queryset):
            self.delete_model(request, attempt)
