from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The six digits your authenticator app shows now, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class ResetForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Recorded in the ledger, for example: phone lost, identity checked in person."),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No account has this user name."))
        self.user = user
        return username


class UnlockForm(forms.Form):
    username = forms.CharField(required=False, max_length=150)
    address = forms.GenericIPAddressField(required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("username")) == bool(data.get("address")):
            raise forms.ValidationError(_("Choose one account or one address to unlock."))
        return data
