"""The one path every email takes: enqueue (a row, in the caller's transaction), publish on
commit, and deliver under a row lock so that no message is lost or sent twice.

- A message is written in the same transaction as the change that caused it, and the Celery
  task is published only after that commit. If the broker is down then, the row stays pending
  and the periodic sweep publishes it once the broker is back.
- The send task claims the row (pending → sending) under SELECT ... FOR UPDATE before it talks
  to the SMTP server, so a retried task or a second worker finds it claimed and does nothing.
- A worker killed after claiming leaves the row "sending"; the sweep returns claims older than
  OUTBOX_CLAIM_TIMEOUT to pending. That timeout is longer than the task's hard time limit, so a
  live worker's claim is never taken from it. The only window for a duplicate is a kill between
  the SMTP server's acceptance and the commit of "sent"; the fixed Message-ID lets mail systems
  drop such a copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from email.headerregistry import Address
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from network_portal.links import site_host

from .models import OutgoingMessage

logger = logging.getLogger(__name__)
Status = OutgoingMessage.Status


class TransientSendError(Exception):
    """The SMTP server or the network failed in a way worth trying again."""


# 4xx replies and dropped connections are temporary by SMTP's own definition; 5xx are final.
_TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def default_from() -> str:
    # Unencoded here (readable in admin); Django encodes the header when it sends.
    return str(Address(display_name=settings.NETWORK_NAME, addr_spec=settings.DEFAULT_FROM_EMAIL))


def render(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of `emails/<template>` in the recipient's language."""
    context = {"network_name": settings.NETWORK_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context).strip() + "\n"
        html = render_to_string(f"emails/{template}.html", {**context, "subject": subject})
    return subject, text, html


def enqueue(
    *,
    key: str,
    kind: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    user=None,
    language: str = "",
    reply_to: str = "",
    attachments: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    sensitive: bool = False,
) -> OutgoingMessage:
    """Record a message in the current transaction and publish its send task on commit. The
    same key twice records and sends it once."""
    message, created = OutgoingMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": kind,
            "recipient": recipient,
            "user": user,
            "language": language,
            "from_email": default_from(),
            "reply_to": reply_to,
            "subject": subject[:300],
            "body_text": text,
            "body_html": html,
            "attachments": attachments or [],
            "headers": headers or {},
            "sensitive": sensitive,
            "message_id": make_msgid(domain=site_host()),
        },
    )
    if created:
        transaction.on_commit(lambda: publish(message.pk))
    return message


# After a failed publish, this process leaves messages pending for the sweep for a while instead
# of waiting for the broker's timeouts once per message (cancelling an event with 80 people
# while Redis is down must not take minutes).
_BROKER_PAUSE = 30.0
_broker_down_until = 0.0


def publish(pk: int, *, retrying: bool = False) -> bool:
    """Hand the message to Celery. A broker that is down is no error here: the row stays pending
    and the sweep publishes it later. The sweep (`retrying`) always tries."""
    global _broker_down_until
    from .tasks import send_message

    if not retrying and time.monotonic() < _broker_down_until:
        return False
    try:
        send_message.delay(pk)
    except Exception as exc:  # kombu and redis raise many kinds; none may undo the caller's work
        _broker_down_until = time.monotonic() + _BROKER_PAUSE
        logger.warning("Outbox: could not publish message %s (%s); the sweep will retry", pk, exc)
        return False
    OutgoingMessage.objects.filter(pk=pk).update(published_at=timezone.now())
    return True


def _claim(pk: int) -> OutgoingMessage | None:
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=pk).first()
        if message is None or message.status != Status.PENDING or message.next_attempt_at > timezone.now():
            return None
        message.status = Status.SENDING
        message.attempts += 1
        message.claimed_at = timezone.now()
        message.save(update_fields=["status", "attempts", "claimed_at"])
        return message


def _as_email(message: OutgoingMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email,
        to=[message.recipient],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={**message.headers, "Message-ID": message.message_id},
    )
    email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


_WIPED = "[removed after sending: it contained a sign-in secret]"

# kind -> check(message) -> bool: apps say whether a queued message is still wanted when it is
# sent (an alert to someone who has unsubscribed since must not go out).
_suppressions: dict = {}


def register_suppression(kind: str, check) -> None:
    _suppressions[kind] = check


def _still_wanted(message: OutgoingMessage) -> bool:
    check = _suppressions.get(message.kind)
    return check is None or check(message)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver(pk: int, connection=None) -> bool:
    """Send one message if it is still pending. Returns True when this call sent it.

    Raises TransientSendError after putting the message back to pending with a back-off, so
    the task can retry; a permanent failure (5xx) marks it failed for an organizer to look at.
    """
    message = _claim(pk)
    if message is None:
        return False
    if not _still_wanted(message):
        message.status = Status.WITHDRAWN
        message.last_error = "The recipient no longer wants this kind of message."
        message.save(update_fields=["status", "last_error"])
        return False
    try:
        (connection or get_connection()).send_messages([_as_email(message)])
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            _give_back(message, exc)
            raise TransientSendError(str(exc)) from exc
        _fail(message, exc)
        return False
    except smtplib.SMTPRecipientsRefused as exc:
        # Greylisting answers 4xx per recipient: try again later. 5xx means no such mailbox.
        if all(400 <= code < 500 for code, _reply in exc.recipients.values()):
            _give_back(message, exc)
            raise TransientSendError(str(exc)) from exc
        _fail(message, exc)
        return False
    except _TRANSIENT as exc:
        _give_back(message, exc)
        raise TransientSendError(str(exc)) from exc
    except Exception as exc:  # a bug or bad data, not the network: retrying would loop forever
        _fail(message, exc)
        return False
    message.status = Status.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    fields = ["status", "sent_at", "last_error"]
    if message.sensitive:
        message.body_text = message.body_html = _WIPED
        fields += ["body_text", "body_html"]
    message.save(update_fields=fields)
    return True


def _give_back(message: OutgoingMessage, error: Exception) -> None:
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _fail(message, error)
        return
    message.status = Status.PENDING
    message.next_attempt_at = timezone.now() + _backoff(message.attempts)
    message.last_error = f"{error.__class__.__name__}: {error}"[:2000]
    message.published_at = None  # the sweep publishes it again once the back-off has passed
    message.save(update_fields=["status", "next_attempt_at", "last_error", "published_at"])


def _fail(message: OutgoingMessage, error: Exception) -> None:
    message.status = Status.FAILED
    message.last_error = f"{error.__class__.__name__}: {error}"[:2000]
    message.save(update_fields=["status", "last_error"])
    logger.error("Outbox: message %s to %s failed: %s", message.pk, message.recipient, message.last_error)


def recover_stale_claims(at: dt.datetime | None = None) -> int:
    """Claims older than the claim timeout belong to workers that died: back to pending."""
    cutoff = (at or timezone.now()) - dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
    return OutgoingMessage.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PENDING,
        published_at=None,
        last_error="Claim expired: the worker stopped while sending.",
    )


def sweep(limit: int = 500) -> int:
    """Publish pending messages whose time has come (after a broker outage, a back-off or a
    recovered claim). Returns how many were published."""
    recover_stale_claims()
    recently = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_REPUBLISH_AFTER)
    due = OutgoingMessage.objects.due().filter(Q(published_at__isnull=True) | Q(published_at__lt=recently))
    published = 0
    for pk in due.order_by("created_at").values_list("pk", flat=True)[:limit]:
        if not publish(pk, retrying=True):
            break  # the broker is down: the next sweep tries again
        published += 1
    return published


def resend(message: OutgoingMessage) -> bool:
    """An organizer sends a failed message again."""
    with transaction.atomic():
        updated = OutgoingMessage.objects.filter(pk=message.pk, status=Status.FAILED).update(
            status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0, published_at=None
        )
        if updated:
            transaction.on_commit(lambda: publish(message.pk))
    return bool(updated)
