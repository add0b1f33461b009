"""The home page: each role's first look at its work, the short head of each of its queues."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.models import Role
from governance.permissions import can_read_governance, is_system_administrator
from requests.selectors import agency_requests
from requests.todo import tasks_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = user.role_set()
    return render(
        request,
        "home.html",
        {
            "roles": roles,
            "role_labels": [Role(role).label for role in Role.values if role in roles],
            "is_requester": Role.REQUESTER in roles,
            "is_reviewer": Role.REVIEWER in roles,
            "is_approver": Role.APPROVER in roles,
            "is_custodian": Role.CUSTODIAN in roles,
            "is_auditor": Role.AUDITOR in roles,
            "is_administrator": Role.ADMINISTRATOR in roles or user.is_superuser,
            "is_system_administrator": is_system_administrator(user),
            "can_read_governance": can_read_governance(user),
            "home_requests": agency_requests(user, size=5) if Role.REQUESTER in roles else [],
            "has_tasks": bool(roles & {Role.REQUESTER, Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN}),
            "task_groups": tasks_for(user),
        },
    )
