"""Writing transactional email: every message is a row written in the caller's transaction
(a change and the messages it causes commit together, or neither does), and its send task is
published only after that commit.

- `write` renders a message now (a secret code, a link signed for this moment) and `enqueue`
  records a rendered one; `defer` and `defer_many` record what a message is about, to be rendered
  by the worker when it sends it (sending.py: the renderer the kind's app registered reads the
  database as it is then). So the event's lock is not held while templates and calendar files
  are rendered, and a message no longer true by then is withdrawn, not sent.
- If the broker is down at the commit, the row stays pending and the periodic sweep
  (sending.sweep) publishes it once the broker is back. Publishing is publishing.py's.
- `withdraw_pending` takes back messages no worker has claimed yet (an earlier notice that a
  later one replaces).

Claiming and delivering are sending.py's; how long bodies and secrets are kept, and a member's
data rights over their messages, are retention.py's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from email.headerregistry import Address
from email.utils import make_msgid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models.constants import OnConflict
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mail.links import site_host
from network_portal import batching

from . import publishing, secrets
from .models import OutgoingMessage

if TYPE_CHECKING:
    from members.models import Team

Status = OutgoingMessage.Status


def default_from() -> str:
    return _from_header(settings.NETWORK_NAME, settings.DEFAULT_FROM_EMAIL)


@functools.lru_cache(maxsize=8)
def _from_header(name: str, address: str) -> str:
    # Unencoded here (readable in admin); Django encodes the header when it sends. Kept: every
    # message a registration writes would parse the same header again.
    return str(Address(display_name=name, addr_spec=address))


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
        # Sealed here, opened only by sending._as_email in the send task. The subject stays readable:
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
) -> None:
    """Record a message that the worker renders when it sends it (the renderer registered for
    `kind` reads `about`), in the current transaction; publish on commit. Nothing is rendered
    here: this is what a change under a lock calls, so it writes one INSERT and reads nothing
    (the lock is held until the commit). The same key twice records it once."""
    row = _deferred_row(
        key=key,
        kind=kind,
        recipient=recipient,
        about=about,
        user_id=user.pk if user is not None else None,
        language=language,
        team_id=team_id,
    )
    # Written unpublished: after the commit the worker's publisher is woken (one command while
    # it is on its way already), and it publishes the sends of every row written so (see
    # publish_written). If the process dies between the commit and the wake, or the broker is
    # down, the sweep publishes the row within its minute. INSERT ... ON CONFLICT DO NOTHING
    # RETURNING id: inside a batch (network_portal.batching) it goes with the rows waiting there.
    batching.insert(row, on_conflict=OnConflict.IGNORE, then=_written)


def _written(pk: int | None) -> None:
    # None: the key was written before (a double submit), and is left to the call that wrote it.
    if pk is not None and not publishing.broker_presumed_down():
        transaction.on_commit(_wake_publisher)


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


# The task that publishes the sends of the rows `defer` wrote (sending.publish_written).
PUBLISH_WRITTEN = _task_name("publish_written")


def publish(pk: int, *, retrying: bool = False, if_unpublished: bool = False) -> bool:
    """Hand the message to Celery. A broker that is down is no error here: the row stays pending
    and the sweep publishes it later. The sweep (`retrying`) always tries. `if_unpublished`: a
    message another publisher marked meanwhile is left to it (True: nothing failed)."""
    if not retrying and publishing.broker_presumed_down():
        return False
    # Marked published before the task exists: a worker claims the row with SKIP LOCKED the
    # moment it gets the task, and a write after the hand-over could hold the row's lock just
    # then, leaving the message to the sweep minutes later. A refused hand-over unmarks it.
    message = OutgoingMessage.objects.filter(pk=pk)
    if if_unpublished:
        message = message.filter(published_at__isnull=True)
    if not message.update(published_at=timezone.now()):
        return True
    return _hand_over(pk, retrying=retrying)


def _wake_publisher() -> None:
    publishing.wake(PUBLISH_WRITTEN)


def _hand_over(pk: int, *, retrying: bool = False) -> bool:
    """Publish the send of a message marked published; a refused hand-over unmarks it."""
    if publishing.hand_to_broker(_task_name("send_message"), pk, retrying=retrying):
        return True
    OutgoingMessage.objects.filter(pk=pk).update(published_at=None)
    return False


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
        if not publish(pk, retrying=True, if_unpublished=True):
            break  # the broker went down: the sweep publishes the rest
        published += 1
    return published


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
