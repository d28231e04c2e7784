"""The newsletter's part of a member's data rights (members.privacy): the subscription with its
consent records in the member's download, and its erasure with the account."""

from __future__ import annotations

from typing import Any

from .models import Subscriber, Suppression
from .services import erasure


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def export(user) -> list[dict[str, Any]]:
    """The member's subscriptions (normally one), as JSON-ready data."""
    subscribers = erasure.subscribers_of_member(user).prefetch_related("topics", "consents")
    return [_subscription(subscriber) for subscriber in subscribers.order_by("pk")]


def _subscription(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "language": subscriber.language,
        "all_topics": subscriber.all_topics,
        "topics": sorted(theme.slug for theme in subscriber.topics.all()),
        "event_alerts": subscriber.event_alerts,
        "created_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "unsubscribed_at": _when(subscriber.unsubscribed_at),
        "consents": [
            {"action": record.action, "source": record.source, "text": record.text, "at": _when(record.at)}
            for record in subscriber.consents.all()
        ],
    }


def erase(user) -> None:
    """Erase the member's subscriptions, each leaving a suppression entry (see
    services.erasure.erase_subscriber); runs inside the account's erasure transaction."""
    for email in list(erasure.subscribers_of_member(user).values_list("email", flat=True)):
        erasure.erase_subscriber(email, reason=Suppression.Reason.ACCOUNT_DELETED)
