"""What an SMTP failure means, the same for every email the portal sends (transactional
messages and newsletter deliveries alike), and the pause of all sending when the server refuses
the portal itself.

- RETRY: this message, later. A 4xx reply about this message or its recipient (greylisting,
  a full mailbox): back to pending with a back-off, one of its attempts spent.
- UNAVAILABLE: the server or the network, not this message. A dropped or refused connection, a
  timeout, a 4xx to the greeting, HELO or MAIL FROM: back to pending with a back-off; a batch
  stops and gives the rest back.
- BOUNCE: the recipient's mailbox refuses it for good (5xx to RCPT, 550/551/553 to DATA): the
  message fails, and a newsletter address counts a bounce.
- REJECT: the server refuses this message's content for good (552/554 after DATA: size, a spam
  filter): the message fails, the address is not blamed.
- PAUSE: the server refuses the portal: its login (534/535/530), its sender address (5xx to
  MAIL FROM), its TLS set-up, a command it needs. Nothing the next message does differently
  will help, and failing the messages would lose them: every sender stops claiming for
  MAIL_PAUSE_SECONDS, the messages go back to pending without spending an attempt, organizers
  see the reason in admin, and sending tries again after the pause.
- ERROR: not SMTP at all (a bug, bad data): the message fails rather than loop.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import smtplib
import ssl

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import SendingPause

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    RETRY = "retry"
    UNAVAILABLE = "unavailable"
    BOUNCE = "bounce"
    REJECT = "reject"
    PAUSE = "pause"
    ERROR = "error"


# 5xx to DATA that name the mailbox rather than the content.
_MAILBOX_CODES = (550, 551, 553)


def classify(error: BaseException) -> Outcome:
    """The one reading of a failed send; see the module's docstring."""
    # Before the broader classes: these are SMTPResponseExceptions and OSErrors too.
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return Outcome.PAUSE
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return Outcome.PAUSE
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return Outcome.BOUNCE if any(code >= 500 for code in codes) else Outcome.RETRY
    if isinstance(error, smtplib.SMTPDataError):
        if error.smtp_code < 500:
            return Outcome.RETRY
        return Outcome.BOUNCE if error.smtp_code in _MAILBOX_CODES else Outcome.REJECT
    if isinstance(error, smtplib.SMTPResponseException):
        # The greeting, HELO, MAIL FROM or an unexpected reply: about the server and the portal,
        # not one message. Temporary when 4xx; the portal's own fault when 5xx.
        return Outcome.UNAVAILABLE if error.smtp_code < 500 else Outcome.PAUSE
    if isinstance(error, OSError):  # smtplib's other errors, refused or dropped connections, timeouts
        return Outcome.UNAVAILABLE
    return Outcome.ERROR


def describe(error: BaseException | None) -> str:
    """The error as stored in a row's error column."""
    return f"{error.__class__.__name__}: {error}"[:2000] if error else ""


def reply_code(error: BaseException) -> int | None:
    return getattr(error, "smtp_code", None)


# ---------------------------------------------------------------------------------------------
# The pause


def backoff(attempts: int) -> dt.timedelta:
    """How long a message given back after its `attempts`-th claim waits: doubling from
    MAIL_RETRY_BASE_SECONDS up to MAIL_RETRY_MAX_SECONDS."""
    seconds = settings.MAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.MAIL_RETRY_MAX_SECONDS))


def pause_sending(error: BaseException, now: dt.datetime | None = None) -> dt.datetime:
    """Stop all sending for MAIL_PAUSE_SECONDS because the server refused the portal; the alert
    is this error log and the banner in admin (email would need the server that refuses us).
    Returns when sending resumes."""
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=settings.MAIL_PAUSE_SECONDS)
    with transaction.atomic():
        SendingPause.objects.update_or_create(
            pk=1, defaults={"at": now, "until": until, "code": reply_code(error), "reason": describe(error)}
        )
    logger.error(
        "Mail: sending is paused until %s: the SMTP server refused the portal (%s). Check EMAIL_URL.",
        until.isoformat(),
        describe(error),
    )
    return until


def paused_until(now: dt.datetime | None = None) -> dt.datetime | None:
    """When sending resumes, or None when it is not paused. Every sender asks before claiming."""
    pause = current_pause(now)
    return pause.until if pause else None


def current_pause(now: dt.datetime | None = None) -> SendingPause | None:
    return SendingPause.objects.filter(pk=1, until__gt=now or timezone.now()).first()


def lift_pause() -> None:
    """An organizer fixed the configuration and wants sending now: the next send tries."""
    SendingPause.objects.filter(pk=1).update(until=timezone.now())
