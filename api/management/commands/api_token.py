"""Issue an API token from the server: for an installation's first integration, or a script (the README's walk-through).

The token alone goes to standard output, so that a shell can keep it: TOKEN=$(manage.py api_token …). What was done
goes to standard error."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api import tokens
from governance.models import Agency, User


def _listed(text):
    return [part.strip() for part in text.split(",") if part.strip()]


class Command(BaseCommand):
    help = _("Issue an API token for a service account of an agency (created when it does not exist yet).")

    def add_arguments(self, parser):
        parser.add_argument("--agency", required=True, help=_("The agency's code."))
        parser.add_argument("--name", required=True, help=_("The service account's name (the system that calls)."))
        parser.add_argument("--roles", default="requester", help=_("Roles of a new service account: requester, auditor."))
        parser.add_argument("--scopes", default="", help=_("Scopes, comma-separated; by default every scope its roles allow."))
        parser.add_argument("--days", type=int, default=30, help=_("Days the token lasts."))
        parser.add_argument("--token-name", default="manage.py api_token", help=_("A name that tells this token apart."))

    def handle(self, *args, **options):
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(_("No agency has the code %(code)s.") % {"code": options["agency"]})
        name = options["name"].strip()
        account = User.objects.filter(is_service_account=True, agency=agency, first_name=name[:150]).first()
        try:
            with transaction.atomic():  # all of it or nothing: a refused token leaves no new account behind
                row, token, created = self._issue(account, agency, name, options)
        except (ValidationError, PermissionDenied) as refusal:
            messages = refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]
            raise CommandError(" ".join(messages)) from None
        if created:
            self.stderr.write(_("Service account %(username)s created.") % {"username": row.account.username})
        self.stderr.write(
            _("Token %(prefix)s… for %(username)s, scopes %(scopes)s, until %(expires)s. It is shown only now:")
            % {
                "prefix": row.prefix,
                "username": row.account.username,
                "scopes": ", ".join(row.scopes),
                "expires": timezone.localtime(row.expires_at).strftime("%d/%m/%Y %H:%M"),
            }
        )
        self.stdout.write(token)

    def _issue(self, account, agency, name, options):
        created = account is None
        if created:
            account = tokens.service_account_create(actor=None, name=name, roles=_listed(options["roles"]), agency=agency)
        scopes = _listed(options["scopes"]) or tokens.scopes_allowed(account)
        row, token = tokens.token_issue(
            actor=None, account=account, name=options["token_name"], scopes=scopes, days=options["days"]
        )
        return row, token, created
