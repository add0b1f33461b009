"""The audit ledger. Every part of the application writes through `record_event`."""


def record_event(*, actor, action, target=None, data=None, http_request=None, **extra):
    """Append one event to the hash-chained ledger inside the caller's transaction."""
    from audit.services import record_event as _record_event

    return _record_event(actor=actor, action=action, target=target, data=data, http_request=http_request, **extra)
