"""Django's and django-axes' own texts that the administration shows, kept in the project's catalogue.

The project's catalogue (LOCALE_PATHS) takes precedence over the packages' own, so a text listed here reads in the
catalogue's Vietnamese in the administration: the texts Django's Vietnamese lacks (the screen-reader headers, the
filter counts, the theme toggle, password-based sign-in), the ones it words oddly ("History" read as a memo), and
django-axes', which ships no Vietnamese. `makemessages` keeps only the texts it finds in the project's source; this
module is where it finds these. Each text is exactly the package's msgid.

The admin's scripts read their texts from a JavaScript catalogue of their own (Django's "djangojs" domain);
`AdminScriptCatalog` answers the ones listed in SCRIPT from the project's catalogue instead.
"""

from django.utils.translation import gettext, gettext_noop, ngettext, ngettext_lazy
from django.views.i18n import JavaScriptCatalog

# Django's admin (django.contrib.admin).
ADMIN = [
    gettext_noop("Skip to main content"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Toggle navigation"),
    gettext_noop("Sidebar"),
    gettext_noop("Filter navigation items"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Show counts"),
    gettext_noop("Hide counts"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Set password"),
    gettext_noop("This action will <strong>enable</strong> password-based authentication for this user."),
    gettext_noop("Disable password-based authentication"),
    gettext_noop("Enable password-based authentication"),
    gettext_noop("History"),
    gettext_noop("Log out"),
    gettext_noop("Add"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Go"),
    gettext_noop("Action:"),
    gettext_noop("Run the selected action"),
    gettext_noop("Click here to select the objects across all pages"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    gettext_noop("0 of %(cnt)s selected"),
    gettext_noop("Models in the %(name)s application"),
    gettext_noop("%(app)s administration"),
    gettext_noop("Past 7 days"),
    gettext_noop("log entry"),
    gettext_noop("log entries"),
    gettext_noop("This object doesn’t have a change history. It probably wasn’t added via this admin site."),
    gettext_noop(
        'Are you sure you want to delete the %(object_name)s "%(escaped_object)s"? All of the following related items will be deleted:'
    ),
    gettext_noop(
        "Deleting the %(object_name)s '%(escaped_object)s' would result in deleting related objects, but your account doesn't have permission to delete the following types of objects:"
    ),
    gettext_noop(
        "Deleting the %(object_name)s '%(escaped_object)s' would require deleting the following protected related objects:"
    ),
    gettext_noop(
        "Are you sure you want to delete the selected %(objects_name)s? All of the following objects and their related items will be deleted:"
    ),
    gettext_noop("Items must be selected in order to perform actions on them. No items have been changed."),
    gettext_noop("No action selected."),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    gettext_noop("Popup closing…"),
    gettext_noop("Save and view"),
    gettext_noop("Save as new"),
    gettext_noop("Your password was changed."),
    gettext_noop(
        "Please enter your old password, for security’s sake, and then enter your new password twice so we can verify you typed it in correctly."
    ),
]
ADMIN_PLURALS = [
    ngettext_lazy("Please correct the error below.", "Please correct the errors below."),
    ngettext_lazy("entry", "entries"),
]

# Accounts and passwords (django.contrib.auth).
AUTH = [
    gettext_noop("Password-based authentication"),
    gettext_noop("Password-based authentication was disabled."),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, they may still be able to authenticate using other backends, such as Single Sign-On or LDAP."
    ),
    gettext_noop("Enabled"),
    gettext_noop("Disabled"),
    gettext_noop("Reset password"),
    gettext_noop("Set password: %s"),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Enable password-based authentication for this user by setting a password."),
    gettext_noop("Conflicting form data submitted. Please try again."),
    gettext_noop(
        "Enter a valid username. This value may contain only unaccented lowercase a-z and uppercase A-Z letters, numbers, and @/./+/-/_ characters."
    ),
    gettext_noop("variety"),
    gettext_noop("version"),
    gettext_noop("memory cost"),
    gettext_noop("time cost"),
    gettext_noop("parallelism"),
    gettext_noop("checksum"),
    gettext_noop("salt"),
    gettext_noop("superuser status"),
    gettext_noop("staff status"),
    gettext_noop("Designates whether the user can log into this admin site."),
    gettext_noop("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
    gettext_noop("Password changed successfully."),
]
AUTH_PLURALS = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
]

# Django itself: the related rows a deletion counts, page numbers, JSON fields.
CORE = [
    gettext_noop("%(from)s-%(to)s relationship"),
    gettext_noop("%(from)s-%(to)s relationships"),
    gettext_noop("That page number is not an integer"),
    gettext_noop("That page number is less than 1"),
    gettext_noop("That page contains no results"),
    gettext_noop("Enter a valid JSON."),
    gettext_noop("Value must be valid JSON."),
    gettext_noop("Enter a complete value."),
]

# Failed sign-ins and lock-outs (django-axes, which ships no Vietnamese).
AXES = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Attempt Time"),
    gettext_noop("IP Address"),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("Path"),
    gettext_noop("Failed Logins"),
    gettext_noop("Locked Out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
]


# The admin's scripts: the selector of a many-to-many field.
SCRIPT = [
    gettext_noop('Choose %s by selecting them and then select the "Choose" arrow button.'),
    gettext_noop("Choose all %s"),
    gettext_noop("Choose selected %s"),
    gettext_noop('Remove %s by selecting them and then select the "Remove" arrow button.'),
    gettext_noop("Remove selected %s"),
    gettext_noop("Remove all %s"),
    gettext_noop("Type into this box to filter down the list of selected %s."),
    gettext_noop("(click to clear)"),
]
HIDDEN_SELECTED = ("%s selected option not visible", "%s selected options not visible")


class AdminScriptCatalog(JavaScriptCatalog):
    """Django's catalogue for the admin's scripts, with the texts of SCRIPT from the project's catalogue where it has them."""

    packages = ["django.contrib.admin"]

    def get_catalog(self):
        catalog = super().get_catalog()
        for text in SCRIPT:
            translated = gettext(text)
            if translated != text:
                catalog[text] = translated
        # Vietnamese has a single plural form; other languages keep Django's own.
        one = ngettext("%s selected option not visible", "%s selected options not visible", 1)
        if self._num_plurals == 1 and one != HIDDEN_SELECTED[0]:
            catalog[HIDDEN_SELECTED[0]] = [one]
        return catalog
