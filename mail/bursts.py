"""Transactional email yields to a burst of the changes that write it.

When a registration opens, hundreds of members press the button within seconds, and each
registration writes its confirmation. Where the web workers, the database and the Celery worker
share the cores, sending those confirmations while the members still wait for their pages takes
the pages' CPU (the README's performance section has the figures).

So a send task waits while at least MAIL_BURST_MESSAGES messages have been written in the last
MAIL_BURST_SECONDS, and goes ahead once the writing slows down or when its message is
MAIL_BURST_MAX_WAIT seconds old, whichever comes first: in a burst that never ends, a task
whose message is that old waits no more, so sending goes on that far behind the writing. (Every
other task queued behind a waiting one waits with it; all processes are presumed to share one
clock, as the outbox's back-offs already do.) A message with a secret (a sign-in code, a
password-reset link) never waits: the member is at the screen for it, and since its task may be
queued behind the burst's, a task that waits sends such messages as they arrive. Waiting is a
sleep between reads, not a retry: the task keeps its message and nothing is published again.
A newsletter's task yields the same way before each batch (`yield_to_burst`)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import Exists, QuerySet
from django.utils import timezone

from . import sending
from .models import OutgoingMessage

logger = logging.getLogger(__name__)

# Between two looks while a burst lasts: short against the burst's window.
_POLL_SECONDS = 0.25
# Secrets sent between two looks: a flood of sign-in requests still lets the look come round.
_SECRETS_AT_ONCE = 20


def _burst_rows(now: dt.datetime) -> QuerySet:
    """Not empty when at least MAIL_BURST_MESSAGES messages were written in the last
    MAIL_BURST_SECONDS: the last of that many, so that none are counted beyond it."""
    since = now - dt.timedelta(seconds=settings.MAIL_BURST_SECONDS)
    limit = settings.MAIL_BURST_MESSAGES
    recent = OutgoingMessage.objects.filter(created_at__gt=since).order_by("created_at")
    return recent[limit - 1 : limit]


def _secrets_due(now: dt.datetime) -> QuerySet:
    return OutgoingMessage.objects.due(now).filter(sensitive=True)


def _look(pk: int, now: dt.datetime) -> tuple[dt.datetime, bool, bool, bool] | None:
    """In one query: when message `pk` was written, whether it has a secret, whether a burst is
    on now, and whether a message with a secret is waiting to be sent. None when the message is
    no longer pending (withdrawn, sent or claimed meanwhile): nothing to wait for."""
    return (
        OutgoingMessage.objects.pending()
        .filter(pk=pk)
        .values_list("created_at", "sensitive", Exists(_burst_rows(now)), Exists(_secrets_due(now)))
        .first()
    )


def wait_for_quiet(pk: int, *, sleep=None) -> float:
    """Before sending message `pk`: wait while a burst of messages is being written (see above),
    sending meanwhile the messages with a secret that arrive. Returns the seconds waited."""
    if settings.MAIL_BURST_MESSAGES <= 0:
        return 0.0

    def look(now: dt.datetime) -> tuple[dt.datetime, bool, bool] | None:
        row = _look(pk, now)
        if row is None or row[1]:  # gone, or a secret: nothing to wait for
            return None
        written_at, _secret, burst, secret_due = row
        return written_at + dt.timedelta(seconds=settings.MAIL_BURST_MAX_WAIT), burst, secret_due

    return _wait_while_burst(look, sleep or time.sleep)


def yield_to_burst(*, sleep=None) -> float:
    """For a sender of many messages (a newsletter's batches), before a batch: wait while a
    burst is on, at most MAIL_BURST_MAX_WAIT seconds, sending meanwhile the messages with a
    secret that arrive. Returns the seconds waited."""
    if settings.MAIL_BURST_MESSAGES <= 0:
        return 0.0
    latest = timezone.now() + dt.timedelta(seconds=settings.MAIL_BURST_MAX_WAIT)

    def look(now: dt.datetime) -> tuple[dt.datetime, bool, bool]:
        burst = _burst_rows(now).exists()
        return latest, burst, burst and _secrets_due(now).exists()

    return _wait_while_burst(look, sleep or time.sleep)


def _wait_while_burst(look, sleep) -> float:
    """Sleep between looks while `look(now)` says (wait until, burst on, a secret due) that a
    burst is on and the time has not come; None ends the wait. Returns the seconds waited."""
    waited = 0.0
    while True:
        now = timezone.now()
        seen = look(now)
        if seen is None:
            return waited
        latest, burst, secret_due = seen
        if not burst or now >= latest:
            return waited
        if secret_due:
            _send_secrets(now, until=latest)
        pause = min(_POLL_SECONDS, (latest - timezone.now()).total_seconds())
        if pause > 0:
            sleep(pause)
            waited += pause


def _send_secrets(now: dt.datetime, until: dt.datetime) -> None:
    """The messages with a secret that are due, sent by a task waiting for a burst to end: their
    own tasks may be queued behind the burst's and would wait with them. Each is claimed as its
    own task claims it, so it goes once. A failed attempt is its own task's to retry, and ends
    the round: the waiting task's own message is not failed for another's error, and a slow
    SMTP server keeps it no longer than its wait (the task's time limit is far beyond)."""
    for secret in _secrets_due(now).order_by("pk").values_list("pk", flat=True)[:_SECRETS_AT_ONCE]:
        if timezone.now() >= until:
            return
        try:
            sending.deliver(secret)
        except SoftTimeLimitExceeded:
            raise  # the task's own time is up: deliver has given the secret back
        except Exception:  # the secret's row holds the outcome (given back or failed)
            logger.warning("Mail: a waiting task could not send secret %s", secret, exc_info=True)
            return
