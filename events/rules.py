"""Small rules about an event that both the services (deciding) and the notifications (telling)
read, so that neither imports the other for them."""

from __future__ import annotations

import datetime as dt

from .models import Event


def cancellation_deadline(event: Event) -> dt.datetime | None:
    """Until when a member may cancel: the event's own deadline, or its start."""
    return event.cancellation_deadline or event.starts_at
