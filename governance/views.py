"""Read-only pages of the governance data."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from governance.forms import CameraFilterForm
from governance.models import Agency, AssignmentRule, DataCategory, LegalBasis
from governance.permissions import (
    can_see_camera_source,
    ensure_can_read_governance,
    get_visible_camera_or_404,
    get_visible_legal_basis_or_404,
)
from governance.selectors import camera_search, regulation_in_force

CAMERAS_PER_PAGE = 50


class CountFreePage:
    """One page of a list without COUNT(*): fetch one row more than shown to know whether another page follows."""

    def __init__(self, queryset, *, number, per_page):
        offset = (number - 1) * per_page
        rows = list(queryset[offset : offset + per_page + 1])
        self.object_list = rows[:per_page]
        self.number = number
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1
        self.next_page_number = number + 1
        self.previous_page_number = number - 1
        self.start_index = offset + 1 if self.object_list else 0
        self.end_index = offset + len(self.object_list)


@login_required
def camera_list(request):
    ensure_can_read_governance(request.user)
    form = CameraFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    page = CountFreePage(camera_search(**filters), number=form.page_number() if form.is_bound else 1, per_page=CAMERAS_PER_PAGE)
    return render(
        request,
        "governance/camera_list.html",
        {"form": form, "page": page, "cameras": page.object_list, "is_filtered": any(filters.values())},
    )


@login_required
def camera_detail(request, code):
    camera = get_visible_camera_or_404(request.user, code)
    area_path = []
    area = camera.area
    while area is not None:
        area_path.insert(0, area)
        area = area.parent
    categories = DataCategory.objects.filter(code__in=camera.capability_codes()).order_by("code")
    return render(
        request,
        "governance/camera_detail.html",
        {
            "camera": camera,
            "area_path": area_path,
            "categories": categories,
            "show_source": can_see_camera_source(request.user, camera),
        },
    )


@login_required
def legal_basis_list(request):
    ensure_can_read_governance(request.user)
    legal_bases = LegalBasis.objects.prefetch_related("allowed_categories").order_by("code")
    return render(
        request,
        "governance/legal_basis_list.html",
        {"legal_bases": legal_bases, "today": timezone.localdate()},
    )


@login_required
def legal_basis_detail(request, code):
    legal_basis = get_visible_legal_basis_or_404(request.user, code)
    return render(
        request,
        "governance/legal_basis_detail.html",
        {
            "legal_basis": legal_basis,
            "in_force_today": legal_basis.is_valid_on(timezone.localdate()),
            "categories": legal_basis.allowed_categories.order_by("code"),
            "requester_kinds": [Agency.Kind(kind).label for kind in legal_basis.requester_kinds if kind in Agency.Kind.values],
        },
    )


@login_required
def regulation(request):
    ensure_can_read_governance(request.user)
    version = regulation_in_force()
    legal_bases, duties = [], []
    if version is not None:
        legal_bases = version.legal_bases.prefetch_related("allowed_categories").order_by("code")
        rules = version.rules.select_related("agency", "area", "data_category").order_by("area__path", "agency__name_vi")
        duties = [
            {"duty": duty, "label": duty.label, "rules": [rule for rule in rules if rule.duty == duty]}
            for duty in AssignmentRule.Duty
        ]
    return render(
        request,
        "governance/regulation.html",
        {"version": version, "legal_bases": legal_bases, "duties": duties, "today": timezone.localdate()},
    )
