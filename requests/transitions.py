"""Which status moves a footage request may make: the one table both the workflow and the permission checks read.

Only `requests.workflow` applies a move; everyone else asks `allows` whether it is possible now.
"""

from requests.models import EXPORT_QUEUE_STATUSES, OPEN_STATUSES, Status

# transition -> (statuses it may start from, status it leads to; None: the status stays as it is).
# The reviewers' queue and the custodians' export queue (and their partial indexes) are the sets review and export
# start from.
TRANSITIONS = {
    "update": ({Status.DRAFT, Status.NEEDS_INFO}, None),
    "submit": ({Status.DRAFT, Status.NEEDS_INFO}, Status.SUBMITTED),
    "review": (set(OPEN_STATUSES), Status.IN_REVIEW),
    "ask_info": (set(OPEN_STATUSES), Status.NEEDS_INFO),
    "approve_partly": ({Status.IN_REVIEW}, Status.IN_REVIEW),
    "approve": ({Status.IN_REVIEW}, Status.APPROVED),
    "reject": ({Status.IN_REVIEW}, Status.REJECTED),
    "withdraw": ({Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO}, Status.WITHDRAWN),
    "expire": ({Status.NEEDS_INFO}, Status.EXPIRED),
    "export": (set(EXPORT_QUEUE_STATUSES), Status.EXPORTING),
    "release": ({Status.EXPORTING}, Status.RELEASED),
    "export_fail": ({Status.EXPORTING}, Status.EXPORT_FAILED),
    "hold_damaged": ({Status.EXPORTING}, Status.DAMAGE_HELD),
    "acknowledge_damage": ({Status.DAMAGE_HELD}, Status.RELEASED),
    "close": ({Status.RELEASED}, Status.CLOSED),
}


def _reachable_from(start: str) -> frozenset[str]:
    seen, frontier = {start}, [start]
    while frontier:
        status = frontier.pop()
        for sources, target in TRANSITIONS.values():
            if status in sources and target is not None and target not in seen:
                seen.add(target)
                frontier.append(target)
    return frozenset(seen)


# Approved and every status an approved request can move on to: where export and release happen.
PAST_APPROVAL = _reachable_from(Status.APPROVED)


# A release is made with the move into released or damaged-and-held (requests.workflow.request_release) and is
# never undone: a request has one exactly in the statuses reachable from those two.
HAS_RELEASE = _reachable_from(Status.RELEASED) | _reachable_from(Status.DAMAGE_HELD)


def has_release(status: str) -> bool:
    """Whether a request in `status` has its release (so a page need not look for one otherwise)."""
    return status in HAS_RELEASE


def past_approval(status: str) -> bool:
    """Whether a request in `status` has been approved (it is being, or has been, exported and released)."""
    return status in PAST_APPROVAL


def allows(transition: str, status: str) -> bool:
    """Whether `transition` may start from `status`."""
    return status in TRANSITIONS[transition][0]
