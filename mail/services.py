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
  drop such a copy. Claiming, giving back and recovering are claims.py's, shared with newsletter
  deliveries; what an SMTP error means is smtp.py's; publishing is publishing.py's.
- Most messages are rendered by the worker when it sends them (`defer`, `defer_many`): the
  change that causes them writes a small row saying what the message is about, and the renderer
  the kind's app registered reads the database as it is at sending time. So the event's lock is
  not held while templates and calendar files are rendered, and a message that is no longer true
  by then (a confirmation of a registration cancelled since) is withdrawn, not sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import make_msgid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import OperationalError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from network_portal.links import site_host

from . import claims, publishing, secrets, smtp
from .models import OutgoingMessage, kind_label

if TYPE_CHECKING:
    from members.models import Team, User

logger = logging.getLogger(__name__)
Status = OutgoingMessage.Status


class TransientSendError(Exception):
    """The SMTP server or the network failed in a way worth trying again."""


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
    team: Team | None = None,
) -> OutgoingMessage:
    """Record a message in the current transaction and publish its send task on commit. The
    same key twice records and sends it once.

    `sensitive` bodies (sign-in codes, reset and confirmation links) are stored encrypted and
    withdrawn if not sent within OUTBOX_SECRET_TTL. `team` is the organizer team whose event
    the message is about: its organizers see the message in admin.
    """
    if sensitive:
        # Sealed here, opened only by _as_email in the send task. The subject stays readable:
        # allauth's subjects ("Sign-In Code", "Password Reset Email") carry no secret.
        text, html = secrets.seal(text), secrets.seal(html)
    message, created = OutgoingMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": kind,
            "recipient": recipient,
            "user": user,
            "team": team,
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


def write(
    template: str, context: dict, *, key: str, recipient: str, language: str, **message
) -> OutgoingMessage:
    """Render `emails/<template>` in the recipient's language and record it as a message of
    that kind: the one way to write a message whose content exists only now (a secret code, a
    link signed for this moment). Messages that can be rendered later are `defer`red instead."""
    subject, text, html = render(template, context, language)
    return enqueue(
        key=key,
        kind=template,
        recipient=recipient,
        language=language,
        subject=subject,
        text=text,
        html=html,
        **message,
    )


def _deferred_row(
    *, key: str, kind: str, recipient: str, about: dict, user_id=None, language: str, team_id=None
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        kind=kind,
        recipient=recipient,
        user_id=user_id,
        team_id=team_id,
        language=language,
        from_email=default_from(),
        about=about,
        message_id=make_msgid(domain=site_host()),
    )


# What a deferred row holds when it is written; the rest is filled in when it is sent.
_DEFERRED_FIELDS = (
    "kind",
    "recipient",
    "user_id",
    "team_id",
    "language",
    "from_email",
    "about",
    "message_id",
)


def defer(
    *, key: str, kind: str, recipient: str, about: dict, user=None, language: str = "", team_id=None
) -> OutgoingMessage:
    """Record a message that the worker renders when it sends it (the renderer registered for
    `kind` reads `about`), in the current transaction; publish on commit. Nothing is rendered
    here: this is what a change under a lock calls. The same key twice records it once."""
    row = _deferred_row(
        key=key,
        kind=kind,
        recipient=recipient,
        about=about,
        user_id=user.pk if user is not None else None,
        language=language,
        team_id=team_id,
    )
    message, created = OutgoingMessage.objects.get_or_create(
        idempotency_key=key, defaults={name: getattr(row, name) for name in _DEFERRED_FIELDS}
    )
    if created:
        transaction.on_commit(lambda: publish(message.pk))
    return message


def defer_many(rows: Iterable[dict]) -> int:
    """`defer` for many recipients at once (every participant of an event): one INSERT however
    many there are, and one task published after the commit that publishes their sends from the
    worker. Each row holds defer's arguments, with `user_id` for the member. Keys that already
    exist (a double submit) are skipped. Returns how many rows were given."""
    messages = [_deferred_row(**row) for row in rows]
    if not messages:
        return 0
    OutgoingMessage.objects.bulk_create(messages, ignore_conflicts=True)
    keys = [message.idempotency_key for message in messages]
    transaction.on_commit(lambda: publish_batch(keys))
    return len(messages)


def _task_name(name: str) -> str:
    # Named after this package wherever it lives (the tasks module sits beside this one).
    return f"{__package__}.tasks.{name}"


def publish(pk: int, *, retrying: bool = False) -> bool:
    """Hand the message to Celery. A broker that is down is no error here: the row stays pending
    and the sweep publishes it later. The sweep (`retrying`) always tries."""
    if not publishing.hand_to_broker(_task_name("send_message"), pk, retrying=retrying):
        return False
    OutgoingMessage.objects.filter(pk=pk).update(published_at=timezone.now())
    return True


# Keys per batch task: a task's argument stays small whatever the number of participants.
_BATCH = 500


def publish_batch(keys: list[str]) -> int:
    """After a commit that wrote many messages: one task per batch of keys, which publishes the
    messages' sends from the worker. With the broker down the rows stay pending, unpublished, for
    the sweep, as with `publish`. Returns how many batches were handed over."""
    handed = 0
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        if not publishing.hand_to_broker(_task_name("publish_messages"), batch):
            break
        handed += 1
    return handed


def publish_keys(keys: list[str]) -> int:
    """The batch task's work: publish the send of each pending message with these keys."""
    pending = OutgoingMessage.objects.pending().filter(idempotency_key__in=keys, published_at__isnull=True)
    published = 0
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        if not publish(pk, retrying=True):
            break  # the broker went down: the sweep publishes the rest
        published += 1
    return published


def _claim(pk: int) -> OutgoingMessage | None:
    """The message, claimed for this worker; None when it is not pending and due (claimed by
    another worker, sent, backing off, sending paused) or its secret expired."""
    row = OutgoingMessage.objects.filter(pk=pk)
    # A code or link that arrives this late is useless to the member and has been lying in the
    # database for too long: withdrawn, never sent late.
    if _withdraw_expired(row):
        return None
    if not claims.claim(MESSAGES, row, limit=1):
        return None
    return row.get()


def _as_email(message: OutgoingMessage) -> EmailMultiAlternatives:
    # The only place a sensitive body is decrypted: in the worker, for the SMTP server alone.
    email = EmailMultiAlternatives(
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
_REMOVED_EXPIRED = "[removed unsent: its sign-in secret expired (OUTBOX_SECRET_TTL)]"
_REMOVED_SECRET = "[removed: it contained a sign-in secret]"
_REMOVED_RETENTION = "[removed after the retention period (OUTBOX_RETENTION_DAYS)]"
_SECRET_EXPIRED = "Not sent in time: the secret it carried expired (OUTBOX_SECRET_TTL)."
_UNWANTED = "The recipient no longer wants this kind of message."


def _secret_cutoff(at: dt.datetime | None = None) -> dt.datetime:
    return (at or timezone.now()) - dt.timedelta(seconds=settings.OUTBOX_SECRET_TTL)


def _removed_body(notice: str, at: dt.datetime) -> dict:
    return {"body_text": notice, "body_html": notice, "attachments": [], "body_removed_at": at}


def _close(message: OutgoingMessage, status: str, error: str = "", *, notice: str, fields=()) -> None:
    """Put the message in a final state; a secret is removed with it, whatever the outcome."""
    message.status = status
    message.last_error = error
    update = ["status", "last_error", *fields]
    if message.sensitive and message.body_removed_at is None:
        for name, value in _removed_body(notice, timezone.now()).items():
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


def _render_deferred(message: OutgoingMessage) -> None:
    """Render a claimed message from the database as it is now and keep the result in the row
    (what was sent, for organizers and for a retry). Every attempt renders again: a retry an hour
    later tells what is true then."""
    rendered = _renderers[message.kind](message)
    message.subject = rendered.subject[:300]
    message.body_text, message.body_html = rendered.text, rendered.html
    message.attachments, message.reply_to = rendered.attachments, rendered.reply_to
    message.save(update_fields=["subject", "body_text", "body_html", "attachments", "reply_to"])


def deliver(pk: int, connection=None) -> bool:
    """Send one message if it is still pending. Returns True when this call sent it.

    Raises TransientSendError after putting the message back to pending with a back-off, so
    the task can retry; a permanent failure (5xx) marks it failed for an organizer to look at.
    """
    message = _claim(pk)
    if message is None:
        return False
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
        except Exception as exc:  # a bug or bad data: failed for an organizer to look at, not looped
            _fail(message, exc)
            return False
    try:
        (connection or get_connection()).send_messages([_as_email(message)])
    except Exception as exc:  # what it means is smtp.classify's, the same as for newsletters
        return _after_failure(message, exc)
    message.sent_at = timezone.now()
    _close(message, Status.SENT, notice=_REMOVED_SENT, fields=["sent_at"])
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
    failed = secret.update(status=Status.FAILED, last_error=error, **_removed_body(_REMOVED_FAILED, now))
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


def _withdraw_expired(rows, at: dt.datetime | None = None) -> int:
    at = at or timezone.now()
    # Pending only: a claimed message is left to its worker, which checks the expiry when it
    # claims (and a dead worker's claim comes back as pending).
    expired = rows.filter(status=Status.PENDING, sensitive=True, created_at__lte=_secret_cutoff(at))
    return expired.update(
        status=Status.WITHDRAWN, last_error=_SECRET_EXPIRED, **_removed_body(_REMOVED_EXPIRED, at)
    )


def withdraw_expired_secrets(at: dt.datetime | None = None) -> int:
    """Withdraw sensitive messages still unsent after OUTBOX_SECRET_TTL (SMTP down for long,
    a back-off) and remove their bodies. Returns how many."""
    return _withdraw_expired(OutgoingMessage.objects.all(), at)


def sweep(limit: int = 500) -> int:
    """Publish pending messages whose time has come (after a broker outage, a back-off, a pause
    or a recovered claim). Returns how many were published."""
    withdraw_expired_secrets()
    recover_stale_claims()
    if smtp.paused_until() is not None:
        return 0  # nothing would be claimed: the queue is not filled with tasks that wait
    recently = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_REPUBLISH_AFTER)
    due = OutgoingMessage.objects.due().filter(Q(published_at__isnull=True) | Q(published_at__lt=recently))
    published = 0
    for pk in due.order_by("created_at").values_list("pk", flat=True)[:limit]:
        if not publish(pk, retrying=True):
            break  # the broker is down: the next sweep tries again
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
    return done.update(headers={}, about=None, **_removed_body(_REMOVED_RETENTION, at))


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


def withdraw_pending(
    keys: list[str], reason: str = "Replaced by a later message about the same thing."
) -> int:
    """Withdraw the messages with these idempotency keys that no worker has claimed yet (still
    pending); a claimed or sent message is left as it is. Returns how many were withdrawn."""
    if not keys:
        return 0
    # A conditional update: a worker claiming the row at the same moment holds its lock, so
    # either the claim or the withdrawal wins, never both.
    return OutgoingMessage.objects.filter(idempotency_key__in=keys, status=Status.PENDING).update(
        status=Status.WITHDRAWN, last_error=reason
    )
