"""Sending transactional email: the worker's side of the outbox, so that no message is lost or
sent twice.

- The send task claims the row (pending → sending, one conditional UPDATE) before it talks to
  the SMTP server, so a retried task or a second worker finds it claimed and does nothing.
- A worker killed after claiming leaves the row "sending"; the sweep returns claims older than
  OUTBOX_CLAIM_TIMEOUT to pending. That timeout is longer than the task's hard time limit, so a
  live worker's claim is never taken from it. The only window for a duplicate is a kill between
  the SMTP server's acceptance and the commit of "sent"; the fixed Message-ID lets mail systems
  drop such a copy. Claiming, giving back and recovering are claims.py's, shared with newsletter
  deliveries; what an SMTP error means is smtp.py's.
- A message written with `services.defer` is rendered here, when it is sent, by the renderer
  its kind's app registered (`register_renderer`), from the database as it is then; a message no
  longer true (`NoLongerTrue`) or no longer wanted (`register_suppression`) is withdrawn.
- The sweep publishes what is due again (after a broker outage, a back-off, a pause or a
  recovered claim); an organizer may `resend` a failed message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.db import OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import claims, publishing, retention, secrets, smtp
from .mime import Email
from .models import OutgoingMessage
from .services import PUBLISH_WRITTEN, publish

logger = logging.getLogger(__name__)
Status = OutgoingMessage.Status


class TransientSendError(Exception):
    """The SMTP server or the network failed in a way worth trying again."""


def _claim(pk: int) -> OutgoingMessage | None:
    """The message, claimed for this worker; None when it is not pending and due (claimed by
    another worker, sent, backing off, sending paused) or its secret expired."""
    if not claims.claim_one(MESSAGES, pk):
        return None
    message = OutgoingMessage.objects.get(pk=pk)
    if retention.secret_expired(message):
        # A code or link that arrives this late is useless to the member and has been lying in
        # the database for too long: withdrawn, never sent late.
        _close(message, Status.WITHDRAWN, retention.SECRET_EXPIRED, notice=retention.REMOVED_EXPIRED)
        return None
    return message


def _as_email(message: OutgoingMessage) -> Email:
    # The only place a sensitive body is decrypted: in the worker, for the SMTP server alone.
    email = Email(
        subject=message.subject,
        body=secrets.unseal(message.body_text) if message.sensitive else message.body_text,
        from_email=message.from_email,
        to=[message.recipient],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={**message.headers, "Message-ID": message.message_id},
    )
    html = secrets.unseal(message.body_html) if message.sensitive else message.body_html
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


# What replaces a removed body. Stored English text, like last_error: it is the record of what
# happened to the message, kept in the row.
_REMOVED_SENT = "[removed after sending: it contained a sign-in secret]"
_REMOVED_FAILED = "[removed: it contained a sign-in secret and could not be sent]"
_REMOVED_SECRET = "[removed: it contained a sign-in secret]"
_UNWANTED = "The recipient no longer wants this kind of message."


def _close(message: OutgoingMessage, status: str, error: str = "", *, notice: str, fields=()) -> None:
    """Put the message in a final state; a secret is removed with it, whatever the outcome."""
    message.status = status
    message.last_error = error
    update = ["status", "last_error", *fields]
    if message.sensitive and message.body_removed_at is None:
        for name, value in retention.removed_body(notice, timezone.now()).items():
            setattr(message, name, value)
            update.append(name)
    message.save(update_fields=update)


# kind -> check(message) -> bool: apps say whether a queued message is still wanted when it is
# sent (an alert to someone who has unsubscribed since must not go out).
_suppressions: dict = {}


def register_suppression(kind: str, check) -> None:
    _suppressions[kind] = check


def _still_wanted(message: OutgoingMessage) -> bool:
    check = _suppressions.get(message.kind)
    return check is None or check(message)


@dataclass
class Rendered:
    """What a renderer makes of a message written with `defer`."""

    subject: str
    text: str
    html: str
    attachments: list[dict] = field(default_factory=list)
    reply_to: str = ""


class NoLongerTrue(Exception):  # noqa: N818 (an outcome, not a fault)
    """Raised by a renderer when the message's subject is gone or has changed so that the
    message would be wrong (a confirmation of a registration cancelled since): withdrawn."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# kind -> renderer(message) -> Rendered: apps render their deferred messages from the database
# as it is when the worker sends them (events registers its notices in events/apps.py).
_renderers: dict[str, Callable[[OutgoingMessage], Rendered]] = {}


def register_renderer(kind: str, renderer: Callable[[OutgoingMessage], Rendered]) -> None:
    _renderers[kind] = renderer


# What rendering a deferred message fills in; saved with the outcome of the attempt.
_RENDERED_FIELDS = ["subject", "body_text", "body_html", "attachments", "reply_to"]


def _render_deferred(message: OutgoingMessage) -> None:
    """Render a claimed message from the database as it is now. The result is kept in the row
    with the attempt's outcome (what was sent, for organizers). Every attempt renders again: a
    retry an hour later tells what is true then."""
    rendered = _renderers[message.kind](message)
    message.subject = rendered.subject[:300]
    message.body_text, message.body_html = rendered.text, rendered.html
    message.attachments, message.reply_to = rendered.attachments, rendered.reply_to


def deliver(pk: int, connection=None) -> bool:
    """Send one message if it is still pending. Returns True when this call sent it.

    Raises TransientSendError after putting the message back to pending with a back-off, so
    the task can retry; a permanent failure (5xx) marks it failed for an organizer to look at.
    """
    message = _claim(pk)
    if message is None:
        return False
    try:
        return _deliver_claimed(message, connection)
    except SoftTimeLimitExceeded:
        # The task's time ran out (a hanging SMTP server), which says nothing about the message:
        # pending again after the back-off, never failed as a bad message would be.
        claims.give_back(MESSAGES, [message.pk], "The send task ran out of time.")
        raise


def _deliver_claimed(message: OutgoingMessage, connection) -> bool:
    if not _still_wanted(message):
        _close(message, Status.WITHDRAWN, _UNWANTED, notice=_REMOVED_SECRET)
        return False
    if message.rendered_when_sent:
        # After the claim's commit, outside any lock of the change that wrote the message.
        try:
            _render_deferred(message)
        except NoLongerTrue as exc:
            _close(message, Status.WITHDRAWN, exc.reason, notice=_REMOVED_SECRET)
            return False
        except OperationalError as exc:  # the database, not the message: try again later
            claims.give_back(MESSAGES, [message.pk], smtp.describe(exc))
            raise TransientSendError(str(exc)) from exc
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # a bug or bad data: failed for an organizer to look at, not looped
            _fail(message, exc)
            return False
    rendered = _RENDERED_FIELDS if message.rendered_when_sent else []
    try:
        (connection or get_connection()).send_messages([_as_email(message)])
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # what it means is smtp.classify's, the same as for newsletters
        if rendered:
            message.save(update_fields=rendered)
        return _after_failure(message, exc)
    message.sent_at = timezone.now()
    # One statement: the mark and what was sent.
    _close(message, Status.SENT, notice=_REMOVED_SENT, fields=["sent_at", *rendered])
    return True


def _after_failure(message: OutgoingMessage, error: Exception) -> bool:
    """Record a failed send (see smtp.py). Raises TransientSendError when the message waits for
    a retry, so the task retries; returns False otherwise."""
    outcome = smtp.classify(error)
    if outcome in (smtp.Outcome.BOUNCE, smtp.Outcome.REJECT, smtp.Outcome.ERROR):
        # 5xx for this message, or a bug or bad data: retrying would loop forever.
        _fail(message, error)
        return False
    if outcome == smtp.Outcome.PAUSE:
        # The server refuses the portal, not the message: pending again, no attempt spent, due
        # when the pause ends; the sweep publishes it then.
        until = smtp.pause_sending(error)
        claims.give_back(MESSAGES, [message.pk], smtp.describe(error), outcome=outcome, not_before=until)
        return False
    claims.give_back(MESSAGES, [message.pk], smtp.describe(error), outcome=outcome)
    raise TransientSendError(str(error)) from error


def _fail(message: OutgoingMessage, error: Exception) -> None:
    # A secret that could not be sent is removed now: it is not sent again (the member asks
    # for a new code), so nothing needs to read it.
    _close(message, Status.FAILED, smtp.describe(error), notice=_REMOVED_FAILED)
    logger.error("Outbox: message %s to %s failed: %s", message.pk, message.recipient, message.last_error)


def _fail_rows(rows, error: str) -> int:
    """claims' failure of claimed rows (after the last attempt): a secret's body goes with it."""
    now = timezone.now()
    secret = rows.filter(sensitive=True, body_removed_at__isnull=True)
    failed = secret.update(
        status=Status.FAILED, last_error=error, **retention.removed_body(_REMOVED_FAILED, now)
    )
    failed += rows.update(status=Status.FAILED, last_error=error)
    if failed:
        logger.error("Outbox: %d message(s) failed: %s", failed, error)
    return failed


# The outbox's rows for the shared claims: a message given back forgets it was published, so
# the sweep publishes it again once it is due.
MESSAGES = claims.Claimable(
    model=OutgoingMessage,
    max_attempts_setting="OUTBOX_MAX_ATTEMPTS",
    claim_timeout_setting="OUTBOX_CLAIM_TIMEOUT",
    error_field="last_error",
    outage_spends_attempt=True,
    on_pending={"published_at": None},
    fail=_fail_rows,
)


def recover_stale_claims(at: dt.datetime | None = None) -> int:
    """Claims older than OUTBOX_CLAIM_TIMEOUT belong to workers that died: back to pending.
    Returns how many."""
    recovered, _failed = claims.recover_stale(MESSAGES, now=at)
    return recovered


def sweep(limit: int = 500) -> int:
    """Publish pending messages whose time has come (after a broker outage, a back-off, a pause
    or a recovered claim). Returns how many were published."""
    retention.withdraw_expired_secrets()
    recover_stale_claims()
    recently = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_REPUBLISH_AFTER)
    return publish_due(
        OutgoingMessage.objects.filter(Q(published_at__isnull=True) | Q(published_at__lt=recently)), limit
    )


def publish_written() -> int:
    """The woken publisher's work (services.defer): publish the send of each message written
    unpublished that is due. Returns how many were published."""
    publishing.woken(PUBLISH_WRITTEN)  # what commits from now on wakes another
    # A batch task of defer_many or the sweep may publish some of the same rows meanwhile: each
    # goes to the one that marks it first.
    unpublished = OutgoingMessage.objects.filter(published_at__isnull=True)
    return publish_due(unpublished, limit=None, if_unpublished=True)


def publish_due(messages: QuerySet, limit: int | None = 500, *, if_unpublished: bool = False) -> int:
    """Publish the sends of `messages` that are due, oldest first, at most `limit`; not while
    sending is paused (nothing would be claimed: the queue is not filled with tasks that wait).
    Returns how many were published; a broker found down ends it (the next sweep tries again)."""
    if smtp.paused_until() is not None:
        return 0
    published = 0
    for pk in messages.due().order_by("created_at").values_list("pk", flat=True)[:limit]:
        if not publish(pk, retrying=True, if_unpublished=if_unpublished):
            break
        published += 1
    return published


def resend(message: OutgoingMessage) -> bool:
    """An organizer sends a failed message again (not a removed secret: the member asks for a
    new one)."""
    with transaction.atomic():
        failed = OutgoingMessage.objects.filter(
            pk=message.pk, status=Status.FAILED, body_removed_at__isnull=True
        )
        updated = failed.update(
            status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0, published_at=None
        )
        if updated:
            transaction.on_commit(lambda: publish(message.pk))
    return bool(updated)
