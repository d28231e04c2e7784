"""Read-only questions other apps ask of the outbox. The outbox knows nothing of what a message
is about beyond its idempotency key, so the asking app names the keys it wrote."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from .models import OutgoingMessage


def counts_by_kind_and_status(
    *, keys: QuerySet | Iterable[str] = (), key_prefixes: Iterable[str] = ()
) -> list[dict]:
    """How many messages there are per kind and status, among those whose
    idempotency key is one of `keys` (a list, or a query of one column, which stays a subquery)
    or starts with one of `key_prefixes`: rows of {"kind", "status", "count"}, one query.

    Keys, unlike `about`, outlive the retention period, so the counts stay right for old
    events."""
    about = Q(idempotency_key__in=keys)
    for prefix in key_prefixes:
        about |= Q(idempotency_key__startswith=prefix)
    return list(
        OutgoingMessage.objects.filter(about)
        .values("kind", "status")
        .annotate(count=Count("pk"))
        .order_by("kind", "status")
    )
