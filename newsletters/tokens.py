"""Signed links in emails, so that subscribers act without logging in. Each purpose has its own
salt: a preferences link cannot confirm, and a confirmation link cannot unsubscribe. The
signature covers the subscriber's id and email, so a link dies when the address changes."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from network_portal.links import absolute_url

from .models import Subscriber

CONFIRM = "newsletters.confirm"
PREFERENCES = "newsletters.preferences"
UNSUBSCRIBE = "newsletters.unsubscribe"

# How long each kind of link works. Unsubscribe links in old newsletters must keep working.
MAX_AGE = {
    CONFIRM: 7 * 24 * 3600,
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


def confirm_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:confirm", args=[make(subscriber, CONFIRM)]))


def preferences_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:preferences", args=[make(subscriber, PREFERENCES)]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("newsletters:unsubscribe", args=[make(subscriber, UNSUBSCRIBE)]))


def unsubscribe_mailbox() -> str:
    return getattr(settings, "NEWSLETTER_UNSUBSCRIBE_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def list_unsubscribe_headers(unsubscribe_link: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs show an unsubscribe button and POST to the HTTPS
    link without the subscriber opening the mail. On every newsletter and alert."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_link}>, <mailto:{unsubscribe_mailbox()}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
