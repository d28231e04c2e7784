"""How long the outbox keeps what it holds, and a member's rights over the messages sent to
them.

- A message carrying a sign-in secret that is still unsent after OUTBOX_SECRET_TTL (SMTP down for
  long, a back-off) is withdrawn and its body removed: a code that arrives this late is useless
  and has lain in the database too long. (The secret of a message sent or failed is removed by
  sending.py at once.)
- Bodies, attachments and headers of messages done with are removed after
  OUTBOX_RETENTION_DAYS; the row stays as the record of what was sent to whom, when.
- Account erasure deletes every message to the member; the data download lists them without
  bodies.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from .models import OutgoingMessage, kind_label

if TYPE_CHECKING:
    from members.models import User

Status = OutgoingMessage.Status

# What replaces a removed body (stored English text, like last_error: the record of what
# happened to the message, kept in the row).
REMOVED_EXPIRED = "[removed unsent: its sign-in secret expired (OUTBOX_SECRET_TTL)]"
_REMOVED_RETENTION = "[removed after the retention period (OUTBOX_RETENTION_DAYS)]"
SECRET_EXPIRED = "Not sent in time: the secret it carried expired (OUTBOX_SECRET_TTL)."


def _secret_cutoff(at: dt.datetime | None = None) -> dt.datetime:
    return (at or timezone.now()) - dt.timedelta(seconds=settings.OUTBOX_SECRET_TTL)


def removed_body(notice: str, at: dt.datetime) -> dict:
    """The columns that remove a message's body (and attachments), with `notice` in its place:
    for an UPDATE of many rows, or set one by one on a message."""
    return {"body_text": notice, "body_html": notice, "attachments": [], "body_removed_at": at}


def secret_expired(message: OutgoingMessage, at: dt.datetime | None = None) -> bool:
    """Whether `message` carries a secret older than OUTBOX_SECRET_TTL: the send task asks this
    of the message it has just claimed, and withdraws it (REMOVED_EXPIRED, SECRET_EXPIRED)."""
    return message.sensitive and message.created_at <= _secret_cutoff(at)


def withdraw_expired(rows, at: dt.datetime | None = None) -> int:
    """Of `rows`, withdraw the pending messages whose secret has expired and remove their
    bodies. Returns how many."""
    at = at or timezone.now()
    # Pending only: a claimed message is left to its worker, which checks the expiry when it
    # claims (and a dead worker's claim comes back as pending).
    expired = rows.filter(status=Status.PENDING, sensitive=True, created_at__lte=_secret_cutoff(at))
    return expired.update(
        status=Status.WITHDRAWN, last_error=SECRET_EXPIRED, **removed_body(REMOVED_EXPIRED, at)
    )


def withdraw_expired_secrets(at: dt.datetime | None = None) -> int:
    """Withdraw sensitive messages still unsent after OUTBOX_SECRET_TTL (SMTP down for long,
    a back-off) and remove their bodies. Returns how many."""
    return withdraw_expired(OutgoingMessage.objects.all(), at)


def remove_old_bodies(at: dt.datetime | None = None) -> int:
    """Data minimisation: remove bodies, attachments and headers (personal details, calendar
    entries, unsubscribe links) of messages older than OUTBOX_RETENTION_DAYS that are done with.
    The row stays as the record of what was sent to whom, when; what a message rendered when sent
    was about goes too (an organizer's message keeps its words there). Returns how many."""
    at = at or timezone.now()
    cutoff = at - dt.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    done = OutgoingMessage.objects.filter(
        status__in=[Status.SENT, Status.FAILED, Status.WITHDRAWN],
        created_at__lt=cutoff,
        body_removed_at__isnull=True,
    )
    return done.update(headers={}, about=None, **removed_body(_REMOVED_RETENTION, at))


def body_removal_due(message: OutgoingMessage) -> dt.datetime | None:
    """When the message's body will be removed; None once it has been."""
    if message.body_removed_at is not None:
        return None
    if message.sensitive and message.status in (Status.PENDING, Status.SENDING):
        return message.created_at + dt.timedelta(seconds=settings.OUTBOX_SECRET_TTL)
    return message.created_at + dt.timedelta(days=settings.OUTBOX_RETENTION_DAYS)


def erase_for_user(user: User) -> None:
    """Account erasure: delete every message to the member, by account and by address.
    Registered with order 900, after the registrations are cancelled: the cancellation
    notices those write to the member are erased with the rest (their send tasks find no row)."""
    OutgoingMessage.objects.to_member(user).delete()


def export_for_user(user: User) -> list[dict]:
    """The emails sent to the member, for their data download: when, what and how it went,
    without bodies (a sign-in secret is removed anyway; the rest is in the member's mailbox)."""
    messages = OutgoingMessage.objects.to_member(user).order_by("created_at", "pk")
    return [
        {
            "date": (message.sent_at or message.created_at).isoformat(),
            "recipient": message.recipient,
            # A message withdrawn before it was rendered has no subject: its kind says what it was.
            "subject": message.subject or kind_label(message.kind),
            "kind": message.kind,
            "status": message.status,
        }
        for message in messages
    ]
