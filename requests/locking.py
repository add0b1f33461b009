"""The row lock every change to a footage request starts with (workflow, releases, holds)."""

from requests.models import FootageRequest


def lock_request(footage_request: FootageRequest) -> FootageRequest:
    """The request read again FOR UPDATE: a concurrent change of the same request waits until this transaction ends."""
    return (
        FootageRequest.objects.select_for_update().select_related("agency", "legal_basis", "requester").get(pk=footage_request.pk)
    )
