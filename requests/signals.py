"""What other apps may follow of a request without the workflow knowing them."""

from django.dispatch import Signal

# Sent by the workflow inside the transaction that moves a request's status (`sender`: FootageRequest;
# `footage_request`, `from_status`, `to_status`). A receiver's writes commit or roll back with the move; anything
# it sends out must wait for the commit (transaction.on_commit).
status_changed = Signal()
