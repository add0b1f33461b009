"""Forms of the request pages. They check input and the regulation's rules; they never write."""

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.forms import DayFirstDateField
from governance.models import Agency, Camera, DataCategory, LegalBasis
from governance.selectors import legal_bases_valid_on, regulation_in_force
from governance.timefmt import DATE_TIME_SECONDS, local_time
from governance.widgets import FastModelChoiceField, FastSelect, bilingual_label
from requests.models import FootageRequest, RedactionRegion, RequestItem, Status, SubjectAccess, Urgency
from requests.pdfcheck import NotAPlainPdf, check_pdf
from requests.rules import check_request_content

# Officers type local wall-clock times; the centres are all in Vietnam (no daylight saving).
VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
PDF_REFUSALS = {
    "header": _("This file is not a PDF document, whatever its name says."),
    "trailer": _(
        "The file does not end where the PDF document ends: it holds something else after it. Save the letter again as PDF."
    ),
    "polyglot": _("The file is a PDF document and an archive at once. Save the letter again as PDF."),
    "unreadable": _("The PDF document cannot be read: it is damaged or not a PDF document."),
    "encrypted": _("The PDF document is protected by a password. Upload a copy without a password."),
    "empty": _("The PDF document has no pages."),
    "active": _(
        "The PDF document holds a script, an action, an attached file or a form program. "
        "Print it to PDF again (or scan the signed letter) and upload that copy."
    ),
}


def validate_pdf(uploaded_file):
    """Accept a PDF only: .pdf name, size within REQUEST_ATTACHMENT_MAX_BYTES, and a plain PDF (requests.pdfcheck)."""
    name = (uploaded_file.name or "").lower()
    if not name.endswith(".pdf"):
        raise ValidationError(_("Upload the letter as a PDF file (.pdf)."), code="extension")
    limit = settings.REQUEST_ATTACHMENT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            _("The file is %(size)s; at most %(limit)s is accepted."),
            code="size",
            params={"size": filesizeformat(uploaded_file.size), "limit": filesizeformat(limit)},
        )
    if uploaded_file.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    try:
        check_pdf(uploaded_file, uploaded_file.size)
    except NotAPlainPdf as refused:
        raise ValidationError(PDF_REFUSALS[refused.code], code=f"pdf-{refused.code}") from None


def available_legal_bases(day=None):
    """Bases a request may cite today: part of the regulation in force and valid on the day."""
    version = regulation_in_force()
    if version is None:
        return legal_bases_valid_on(day or timezone.localdate()).none()
    valid = legal_bases_valid_on(day or timezone.localdate())
    # A person's own request is filed at the centre's counter (requests.subjects), never on the agencies' form.
    return (
        version.legal_bases.filter(pk__in=valid.values("pk"), data_subject_access=False)
        .prefetch_related("allowed_categories")
        .order_by("code")
    )


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed as dd/mm/yyyy hh:mm whatever the browser's language, read and shown as Vietnam time.

    (A browser's own date picker follows its language: an English browser in a Vietnamese office shows mm/dd.)"""

    widget = forms.DateTimeInput(
        attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "dd/mm/yyyy hh:mm", "class": "datetime"},
        format="%d/%m/%Y %H:%M",
    )
    input_formats = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
    default_error_messages = {
        "invalid": _("Write the date and time as dd/mm/yyyy hh:mm, for example 02/12/2026 14:30."),
    }

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            for pattern in self.input_formats:
                try:
                    return dt.datetime.strptime(value, pattern).replace(tzinfo=VIETNAM)
                except ValueError:
                    continue
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(value, dt.datetime) and timezone.is_naive(value):
            return value.replace(tzinfo=VIETNAM)
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(VIETNAM).replace(tzinfo=None)
        return value


class BasisChoiceForm(forms.Form):
    """Step one of filing: the legal basis, chosen before anything else (GET ?basis=CODE)."""

    basis = forms.ModelChoiceField(
        label=_("Legal basis"),
        queryset=None,
        to_field_name="code",
        empty_label=_("Choose the legal basis…"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["basis"].queryset = available_legal_bases()
        self.fields["basis"].label_from_instance = lambda basis: f"{basis.code} — {basis.title}"


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.is_sensitive:
            return _("%(name)s (sensitive)") % {"name": obj.name}
        return obj.name


class RequestItemForm(forms.Form):
    camera = forms.CharField(
        label=_("Camera code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "camera-code"}),
    )
    start = LocalDateTimeField(label=_("From"))
    end = LocalDateTimeField(label=_("To"))
    data_category = CategoryChoiceField(label=_("Data"), queryset=DataCategory.objects.none(), to_field_name="code")

    def __init__(self, *args, categories=None, default_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["data_category"]
        field.queryset = categories if categories is not None else DataCategory.objects.order_by("code")
        if default_category:
            # A blank extra row keeps its default, so it counts as untouched and is skipped.
            field.initial = default_category
            field.empty_label = None

    def clean_camera(self):
        code = self.cleaned_data["camera"].strip()
        camera = Camera.objects.select_related("area").filter(code=code).first()
        if camera is None:
            raise ValidationError(_("No camera has the code %(code)s."), code="unknown", params={"code": code})
        return camera

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The end must be after the start."))
        return cleaned


class BaseRequestItemFormSet(forms.BaseFormSet):
    def total_form_count(self):
        # A post announcing more rows than the maximum is refused as a whole (full_clean says so): no form is built,
        # checked or drawn again for rows that will not be kept.
        if self.is_bound and self.management_form.cleaned_data.get(forms.formsets.TOTAL_FORM_COUNT, 0) > self.absolute_max:
            return 0
        return super().total_form_count()

    def items(self):
        """The rows kept, as dicts for the rules and the workflow."""
        return [
            {key: form.cleaned_data[key] for key in ("camera", "start", "end", "data_category")}
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


MAX_ITEMS = 50
# absolute_max: a post announcing more rows than this is refused as a whole, without building a form for each
# (Django's default would build up to a thousand more).
RequestItemFormSet = forms.formset_factory(
    RequestItemForm,
    formset=BaseRequestItemFormSet,
    extra=1,
    can_delete=True,
    max_num=MAX_ITEMS,
    absolute_max=MAX_ITEMS,
    validate_max=True,
)


def request_item_formset(data=None, *, legal_basis, initial=None, extra=None):
    categories = legal_basis.allowed_categories.order_by("code") if legal_basis else DataCategory.objects.order_by("code")
    codes = [category.code for category in categories]
    default = "video" if "video" in codes else (codes[0] if codes else None)
    formset = RequestItemFormSet(
        data, initial=initial, prefix="items", form_kwargs={"categories": categories, "default_category": default}
    )
    if extra is not None and data is None:
        formset.extra = extra
    return formset


class RequestForm(forms.Form):
    """A request's content. `clean()` runs every rule of the regulation over the content and its items at once."""

    legal_basis = forms.ModelChoiceField(label=_("Legal basis"), queryset=None, to_field_name="code", widget=forms.HiddenInput)
    letter_number = forms.CharField(
        label=_("Official letter number"),
        max_length=80,
        help_text=_("The number of the official request letter (công văn), e.g. 123/CV-CAP."),
    )
    letter_date = DayFirstDateField(
        label=_("Official letter date"),
    )
    case_reference = forms.CharField(label=_("Case or document number"), max_length=120, required=False)
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the footage is needed for; it may be used for this purpose only."),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    letter = forms.FileField(
        label=_("Official letter (PDF)"),
        required=False,
        validators=[validate_pdf],
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )

    def __init__(self, *args, agency, items, legal_basis=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.items = items
        self.fields["legal_basis"].queryset = available_legal_bases()
        self.fields["letter"].help_text = _(
            "PDF only, at most %(limit)s. Required before submitting, except in an emergency."
        ) % {"limit": filesizeformat(settings.REQUEST_ATTACHMENT_MAX_BYTES)}
        if legal_basis is not None:
            field = self.fields["case_reference"]
            if legal_basis.case_number_label:
                field.label = legal_basis.case_number_label
            field.is_required_by_basis = legal_basis.case_number_required

    def clean_letter_date(self):
        day = self.cleaned_data["letter_date"]
        if day > timezone.localdate():
            raise ValidationError(_("The letter cannot be dated in the future."), code="future")
        return day

    def clean(self):
        cleaned = super().clean()
        if not self.items.is_valid():
            self.add_error(None, _("Correct the cameras and time windows marked below."))
            return cleaned
        legal_basis = cleaned.get("legal_basis")
        if legal_basis is None:
            if "legal_basis" not in self.errors:
                self.add_error(None, _("Choose the legal basis for this request."))
            return cleaned
        for message in check_request_content(
            agency=self.agency,
            legal_basis=legal_basis,
            case_reference=cleaned.get("case_reference", ""),
            items=self.items.items(),
        ):
            self.add_error(None, message)
        return cleaned

    def content(self):
        """The fields the workflow's request_create / request_update take."""
        return {
            name: self.cleaned_data[name]
            for name in ("legal_basis", "letter_number", "letter_date", "case_reference", "purpose", "urgency")
        }


class ActionForm(forms.Form):
    """The form of one action on a request: `arguments()` are the keyword arguments of the service that acts."""

    @classmethod
    def posted(cls, data, footage_request):
        """The form as posted for this request."""
        return cls(data)

    def arguments(self):
        """What the service takes besides the actor and the request (by default, the fields under their own names)."""
        return dict(self.cleaned_data)


class ReviewForm(ActionForm):
    recommendation = forms.ChoiceField(
        label=_("Recommendation"),
        choices=[("approve", _("Recommend approval")), ("reject", _("Recommend rejection"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def arguments(self):
        return {"recommend_approval": self.cleaned_data["recommendation"] == "approve", "reason": self.cleaned_data["reason"]}


class AskInfoForm(ActionForm):
    question = forms.CharField(
        label=_("Question for the requesting agency"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(ActionForm):
    reason = forms.CharField(label=_("Reason for the rejection"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(ActionForm):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=4000)


class CommentForm(ActionForm):
    body = forms.CharField(label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


def _minute(moment):
    return moment.replace(second=0, microsecond=0)


class ApproveForm(ActionForm):
    """Sign, optionally narrowing the scope: per item drop it or shorten its window."""

    reason = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_items = list(items)
        for item in self.request_items:
            self.fields[f"drop_{item.pk}"] = forms.BooleanField(label=_("Drop"), required=False)
            # Left out, a window stays as it is: a plain "approve" posts no times at all.
            self.fields[f"start_{item.pk}"] = LocalDateTimeField(label=_("From"), initial=item.start, required=False)
            self.fields[f"end_{item.pk}"] = LocalDateTimeField(label=_("To"), initial=item.end, required=False)

    @classmethod
    def posted(cls, data, footage_request):
        return cls(data, items=footage_request.items.select_related("camera"))

    def arguments(self):
        return {"reason": self.cleaned_data["reason"], "narrow": self.narrow() or None}

    def rows(self):
        return [(item, self[f"drop_{item.pk}"], self[f"start_{item.pk}"], self[f"end_{item.pk}"]) for item in self.request_items]

    def narrow(self):
        """The workflow's `narrow` argument: {item id: None (dropped) or (start, end)} for the items changed."""
        narrow = {}
        for item in self.request_items:
            if self.cleaned_data.get(f"drop_{item.pk}"):
                narrow[item.pk] = None
                continue
            # The inputs show minutes; an untouched value stands for the stored one.
            start = self.cleaned_data.get(f"start_{item.pk}")
            end = self.cleaned_data.get(f"end_{item.pk}")
            start = item.start if start is None or start == _minute(item.start) else start
            end = item.end if end is None or end == _minute(item.end) else end
            if (start, end) != (item.start, item.end):
                narrow[item.pk] = (start, end)
        return narrow


BAD_LIST_CURSOR = _("This page address is not valid; start again from the newest requests.")
LIST_CURSOR_ERRORS = {"invalid": BAD_LIST_CURSOR, "min_value": BAD_LIST_CURSOR, "max_value": BAD_LIST_CURSOR}


class RequestListForm(forms.Form):
    """The request list's query string: its filters (status, reference, case number, legal basis, filing dates; the
    agency for an overseer) and the keyset cursor.

    Only the agencies given are offered; any other agency id is refused as a choice.
    """

    agency = FastModelChoiceField(
        label=_("Requesting agency"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("All agencies"),
        widget=FastSelect,
        option_label=bilingual_label("name"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices], widget=FastSelect
    )
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=FootageRequest._meta.get_field("reference").max_length,
        widget=forms.SearchInput(attrs={"placeholder": "YC-2026-000123", "autocomplete": "off"}),
    )
    case = forms.CharField(
        label=_("Case or document number"),
        required=False,
        max_length=FootageRequest._meta.get_field("case_reference").max_length,
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
        help_text=_("Its beginning is enough."),
    )
    legal_basis = FastModelChoiceField(
        label=_("Legal basis"),
        queryset=LegalBasis.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All legal bases"),
        widget=FastSelect,
        option_label=bilingual_label("title", code="code"),
    )
    filed_from = DayFirstDateField(label=_("Filed from"), required=False)
    filed_to = DayFirstDateField(label=_("Filed until"), required=False)
    before = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput, error_messages=LIST_CURSOR_ERRORS
    )

    def __init__(self, *args, agencies: QuerySet[Agency] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if agencies is None:  # an agency's own list: its agency is the only one, and no choice is offered
            del self.fields["agency"]
            return
        agency = self.fields["agency"]
        agency.queryset = agencies
        agency.error_messages["invalid_choice"] = _("Choose one of the agencies whose requests you oversee.")

    def clean_reference(self) -> str:
        # References are written in capitals (YC-2026-000123); an officer may type them in lower case.
        return self.cleaned_data["reference"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("filed_from") and data.get("filed_to") and data["filed_to"] < data["filed_from"]:
            self.add_error("filed_to", _("The end date cannot be before the start date."))
        return data

    def filters(self) -> dict:
        """The filters given, for `requests.selectors.listed_requests` (call after `is_valid()`)."""
        data = self.cleaned_data
        return {
            "agency": data.get("agency"),
            "status": data.get("status") or None,
            "reference": data.get("reference") or None,
            "case": (data.get("case") or "").strip() or None,
            "legal_basis": data.get("legal_basis"),
            "filed_from": data.get("filed_from"),
            "filed_to": data.get("filed_to"),
        }

    def filters_valid(self) -> bool:
        """Whether the filters can be applied. On an agency's own list a bad cursor alone opens the newest page; an
        overseer is told the page address is not valid."""
        return self.is_valid() or ("agency" not in self.fields and set(self.errors) == {"before"})

    def before_id(self) -> int | None:
        """The cursor alone, if it is valid: a bad filter does not stop the page from opening."""
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("before")


class NotificationsReadForm(forms.Form):
    """Mark every notification read (no fields: the POST itself is the request)."""


class HoldForm(ActionForm):
    reason = forms.CharField(label=_("Reason for the legal hold"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class UnshownInput(forms.TextInput):
    """A text box that never writes its value back into the page: a form shown again with its errors asks for it anew."""

    def format_value(self, value):
        return None


class SubjectLinkForm(forms.Form):
    """What a person types to open their own link: the identity document shown at the centre."""

    document_type = forms.ChoiceField(label=_("Identity document"), choices=SubjectAccess.Document.choices)
    document_number = forms.CharField(
        label=_("Document number"), max_length=40, widget=UnshownInput(attrs={"autocomplete": "off", "spellcheck": "false"})
    )


class SubjectRequestForm(forms.Form):
    """A person's request for footage of themselves, as the official at the counter records it."""

    person_name = forms.CharField(label=_("Name of the person"), max_length=200)
    document_type = forms.ChoiceField(label=_("Identity document checked"), choices=SubjectAccess.Document.choices)
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=UnshownInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Checked against the document shown; kept only as a keyed hash, never in clear."),
    )
    place = forms.CharField(label=_("Where the person was"), max_length=300)
    appearance = forms.CharField(
        label=_("How to recognise the person in the footage"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Clothes, vehicle, what they carried: it helps the custodian mark the person to leave visible."),
    )
    contact = forms.CharField(label=_("Contact (telephone or e-mail)"), max_length=200, required=False)
    counter_number = forms.CharField(label=_("Counter receipt number"), max_length=80, required=False)

    def __init__(self, *args, agency, items, legal_basis, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency, self.items, self.legal_basis = agency, items, legal_basis

    def clean(self):
        from requests.subjects import normalised_document

        cleaned = super().clean()
        if cleaned.get("document_type") and cleaned.get("document_number"):
            try:
                normalised_document(cleaned["document_type"], cleaned["document_number"])
            except ValidationError as error:
                self.add_error("document_number", error)
        if not self.items.is_valid():
            self.add_error(None, _("Correct the cameras and time windows marked below."))
            return cleaned
        for message in check_request_content(
            agency=self.agency, legal_basis=self.legal_basis, case_reference="", items=self.items.items()
        ):
            self.add_error(None, message)
        return cleaned


class RedactionRequireForm(ActionForm):
    reason = forms.CharField(
        label=_("Why the recipient must get redacted copies"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    faces = forms.BooleanField(label=_("Blur every face the detector finds"), required=False, initial=True)


class RedactionRegionForm(ActionForm):
    """A box to blur, drawn on the frame shown `at` seconds into one of the request's clips (in the clip's pixels)."""

    item = forms.ModelChoiceField(label=_("Camera and window"), queryset=RequestItem.objects.none())
    label = forms.ChoiceField(label=_("What it hides"), choices=RedactionRegion.Label.choices)
    at = forms.FloatField(label=_("Drawn at (seconds from the start of the window)"), min_value=0, max_value=86400)
    x = forms.IntegerField(label=_("Left (px)"), min_value=0, max_value=16384)
    y = forms.IntegerField(label=_("Top (px)"), min_value=0, max_value=16384)
    width = forms.IntegerField(label=_("Width (px)"), min_value=1, max_value=16384)
    height = forms.IntegerField(label=_("Height (px)"), min_value=1, max_value=16384)
    until = forms.FloatField(
        label=_("Until (seconds from the start of the window; empty: to its end)"), min_value=0, max_value=86400, required=False
    )
    track = forms.BooleanField(label=_("Follow it from frame to frame"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, footage_request=None, **kwargs):
        super().__init__(*args, **kwargs)
        if footage_request is not None:
            self.fields["item"].queryset = footage_request.items.select_related("camera")
        # The window in Vietnam time, as the request page shows it.
        self.fields["item"].label_from_instance = lambda item: (
            f"{item.camera.code} · {local_time(item.start, DATE_TIME_SECONDS)}–{local_time(item.end, '%H:%M:%S')}"
        )

    @classmethod
    def posted(cls, data, footage_request):
        return cls(data, footage_request=footage_request)

    def arguments(self):
        data = self.cleaned_data
        return {
            "item": data["item"],
            "label": data["label"],
            "at": data["at"],
            "box": (data["x"], data["y"], data["width"], data["height"]),
            "until": data["until"],
            "track": data["track"],
            "note": data["note"],
        }


class RedactionRegionRemoveForm(ActionForm):
    region_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class DamageAcknowledgeForm(ActionForm):
    confirm = forms.BooleanField(
        label=_("I have read the damage listed above; release the footage as it is, with the damage declared."),
    )
    note = forms.CharField(
        label=_("Note (what was checked, why the footage is released)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )

    def arguments(self):
        # Ticking `confirm` is the condition of the act, not part of it.
        return {"note": self.cleaned_data["note"]}


class VerifyForm(forms.Form):
    """A file to hash here, or a SHA-256 computed elsewhere."""

    file = forms.FileField(label=_("File"), required=False)
    sha256 = forms.RegexField(
        label=_("or its SHA-256"),
        regex=r"^\s*[0-9a-fA-F]{64}\s*$",
        required=False,
        error_messages={"invalid": _("A SHA-256 is 64 hexadecimal characters.")},
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        limit = settings.VERIFY_UPLOAD_MAX_BYTES
        if upload and upload.size > limit:
            raise ValidationError(
                _(
                    "The file is %(size)s; files of at most %(limit)s are checked here. For a larger file, paste its "
                    "SHA-256 (computed with sha256sum, or certutil -hashfile FILE SHA256 on Windows)."
                ),
                code="size",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("sha256"):
            raise ValidationError(_("Choose a file or paste its SHA-256."))
        return data
