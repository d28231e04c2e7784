"""Signed links in emails, so that subscribers act without logging in. Each purpose has its own
salt: a preferences link cannot confirm, and a confirmation link cannot unsubscribe. The
signature covers the subscriber's id and email, so a link dies when the address changes.

A re-opt-in link (REOPTIN) is the confirmation link of an address that unsubscribed: the row
keeps its unsubscribe until the owner confirms, so the choices made in the sign-up form travel
in the signed link instead of on the row, with the time of the unsubscribe it answers; a later
unsubscribe makes the link stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from mail.links import absolute_url

from .models import Subscriber

CONFIRM = "newsletters.confirm"
PREFERENCES = "newsletters.preferences"
UNSUBSCRIBE = "newsletters.unsubscribe"
REOPTIN = "newsletters.reoptin"

# How long each kind of link works. Unsubscribe links in old newsletters must keep working.
MAX_AGE = {
    CONFIRM: 7 * 24 * 3600,
    REOPTIN: 7 * 24 * 3600,
    PREFERENCES: 400 * 24 * 3600,
    UNSUBSCRIBE: None,
}


def make(subscriber: Subscriber, purpose: str) -> str:
    return signing.dumps({"id": subscriber.pk, "email": subscriber.email}, salt=purpose, compress=True)


def read(token: str, purpose: str) -> Subscriber | None:
    """The subscriber the token names, or None for a tampered, expired or stale token."""
    try:
        data = signing.loads(token, salt=purpose, max_age=MAX_AGE[purpose])
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return Subscriber.objects.filter(pk=data.get("id"), email=data.get("email")).first()


def _stamp(moment: dt.datetime | None) -> int | None:
    # Microseconds since the epoch: the same for the value in memory and the one read back.
    return None if moment is None else round(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class ReOptIn:
    """What an unsubscribed address asked for in the sign-up form, read from its signed link."""

    subscriber: Subscriber
    language: str
    all_topics: bool
    topic_slugs: tuple[str, ...]
    event_alerts: bool
    unsubscribed_at: int | None  # _stamp of the unsubscribe the request answers

    def still_applies(self, subscriber: Subscriber) -> bool:
        """The address is still unsubscribed by the same unsubscribe: no later decision."""
        return (
            subscriber.status == Subscriber.Status.UNSUBSCRIBED
            and _stamp(subscriber.unsubscribed_at) == self.unsubscribed_at
        )


def make_reoptin(
    subscriber: Subscriber, *, language: str, topics: Iterable, all_topics: bool, event_alerts: bool
) -> str:
    data = {
        "id": subscriber.pk,
        "email": subscriber.email,
        "language": language,
        "all": bool(all_topics),
        "topics": sorted(theme.slug for theme in topics),
        "alerts": bool(event_alerts),
        "since": _stamp(subscriber.unsubscribed_at),
    }
    return signing.dumps(data, salt=REOPTIN, compress=True)


def read_reoptin(token: str) -> ReOptIn | None:
    try:
        data = signing.loads(token, salt=REOPTIN, max_age=MAX_AGE[REOPTIN])
    except signing.BadSignature:
        return None
    subscriber = Subscriber.objects.filter(pk=data.get("id"), email=data.get("email")).first()
    if subscriber is None:
        return None
    return ReOptIn(
        subscriber=subscriber,
        language=str(data.get("language", "")),
        all_topics=bool(data.get("all", True)),
        topic_slugs=tuple(str(slug) for slug in data.get("topics", [])),
        event_alerts=bool(data.get("alerts", False)),
        unsubscribed_at=data.get("since"),
    )


def reoptin_url(subscriber: Subscriber, **choices) -> str:
    # The same page as a first confirmation: the view reads either kind of link.
    return absolute_url(reverse("newsletters:confirm", args=[make_reoptin(subscriber, **choices)]))


def confirm_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:confirm", args=[make(subscriber, CONFIRM)]))


def preferences_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:preferences", args=[make(subscriber, PREFERENCES)]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:unsubscribe", args=[make(subscriber, UNSUBSCRIBE)]))


def unsubscribe_mailbox() -> str:
    return settings.NEWSLETTER_UNSUBSCRIBE_EMAIL or settings.DEFAULT_FROM_EMAIL


def list_unsubscribe_headers(unsubscribe_link: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs show an unsubscribe button and POST to the HTTPS
    link without the subscriber opening the mail. On every newsletter and alert."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_link}>, <mailto:{unsubscribe_mailbox()}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
