"""Hashes of erased addresses (GDPR): an import or an organizer must not add an address whose
owner had it erased, yet the portal must not keep the address itself.

The hash is HMAC-SHA256 of the normalized address, keyed with NEWSLETTER_SUPPRESSION_KEY, a
setting of its own. Not SECRET_KEY: that key is rotated when it leaks, and every entry made
with the old one would silently stop matching, so erased people would be imported again. Not
a plain SHA-256 either, unless no key is set: the addresses of a list are easy to guess, and a
leaked database with plain hashes tells which of them asked to be erased. Without the setting
the hash is keyed with a fixed, public label (as good as plain SHA-256); entries made then, and
entries made with the keys in NEWSLETTER_SUPPRESSION_KEY_FALLBACKS, keep matching after a key is
set or rotated, so no entry is ever lost.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings

from .models import Suppression

# The key of the hashes made while no NEWSLETTER_SUPPRESSION_KEY is set. Never change it:
# entries made with it would stop matching.
_UNKEYED = b"network-portal:newsletter-suppression:v1"


def _normalized(email: str) -> str:
    # As Subscriber.save and services.normalize_email store addresses.
    return email.strip().lower()


def _keys() -> list[bytes]:
    """The key new entries are made with, first; then every key an entry may have been made
    with."""
    configured = [
        settings.NEWSLETTER_SUPPRESSION_KEY or "",
        *(settings.NEWSLETTER_SUPPRESSION_KEY_FALLBACKS or []),
    ]
    keys = [key.encode() for key in configured if key]
    keys.append(_UNKEYED)
    return list(dict.fromkeys(keys))


def _digest(email: str, key: bytes) -> str:
    return hmac.new(key, _normalized(email).encode(), hashlib.sha256).hexdigest()


def suppression_hash(email: str) -> str:
    """The hash a new entry for `email` is stored under."""
    return _digest(email, _keys()[0])


def _candidates(email: str) -> list[str]:
    return [_digest(email, key) for key in _keys()]


def is_suppressed(email: str) -> bool:
    return Suppression.objects.filter(email_hash__in=_candidates(email)).exists()


def suppressed_among(emails: Iterable[str], *, chunk_size: int = 500) -> set[str]:
    """Those of `emails` (normalized) that are suppressed, a query per `chunk_size` addresses
    (a long list would pass the database's limit of parameters in one query)."""
    by_hash = {digest: _normalized(email) for email in emails for digest in _candidates(email)}
    hashes = list(by_hash)
    step = chunk_size * len(_keys())
    found = set()
    for start in range(0, len(hashes), step):
        chunk = hashes[start : start + step]
        found |= set(Suppression.objects.filter(email_hash__in=chunk).values_list("email_hash", flat=True))
    return {by_hash[digest] for digest in found}


def suppress(email: str, reason: str) -> None:
    if not is_suppressed(email):
        Suppression.objects.get_or_create(email_hash=suppression_hash(email), defaults={"reason": reason})


def lift(email: str) -> int:
    """Remove the entry: only for the owner's own confirmed opt-in. Returns how many went."""
    return Suppression.objects.filter(email_hash__in=_candidates(email)).delete()[0]
