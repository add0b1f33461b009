"""System checks for what the ledger's durability rests on and the application cannot set for itself.

They run with the database checks (`manage.py check --database default`, and
before `migrate`), so a server that would lose committed events on a crash is
named instead of trusted silently.
"""

from django.core.checks import Error, Tags, register
from django.db import connections
from django.utils.translation import gettext_lazy as _


@register(Tags.database)
def ledger_durability(app_configs, databases=None, **kwargs):
    problems = []
    for alias in databases or []:
        connection = connections[alias]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT current_setting('fsync'), current_setting('full_page_writes')")
                fsync, full_page_writes = cursor.fetchone()
                if fsync != "on" or full_page_writes != "on":
                    problems.append(
                        Error(
                            _(
                                "PostgreSQL runs with fsync=%(fsync)s, full_page_writes=%(fpw)s: committed ledger events "
                                "can be lost in a crash."
                            )
                            % {"fsync": fsync, "fpw": full_page_writes},
                            hint=_("Turn both on in postgresql.conf."),
                            id="audit.E001",
                        )
                    )
            elif connection.vendor == "sqlite":
                cursor.execute("PRAGMA synchronous")
                level = cursor.fetchone()[0]
                if level < 2:
                    problems.append(
                        Error(
                            _("SQLite runs with PRAGMA synchronous=%(level)s: committed ledger events can be lost on power loss.")
                            % {"level": level},
                            hint=_("Use synchronous=FULL (the default settings do)."),
                            id="audit.E002",
                        )
                    )
    return problems
