"""One engine under both kinds of email: the same reading of SMTP errors, the same claims, the
same pause when the server refuses the portal itself, and the same publisher, for transactional
messages (the outbox) and newsletter deliveries alike."""

import datetime as dt
import smtplib
import ssl

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.urls import reverse
from django.utils import timezone

from mail import claims, publishing, sending, smtp
from mail import services as outbox
from mail.models import OutgoingMessage, SendingPause
from newsletters import delivery
from newsletters.models import Delivery, Edition, Subscriber

Outcome = smtp.Outcome
Message = OutgoingMessage.Status
Status = Delivery.Status
LOGIN_REFUSED = smtplib.SMTPAuthenticationError(535, b"5.7.8 Username and Password not accepted")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"greylisted")}), Outcome.RETRY),
        (smtplib.SMTPDataError(451, b"try later"), Outcome.RETRY),
        (smtplib.SMTPServerDisconnected("gone"), Outcome.UNAVAILABLE),
        (ConnectionRefusedError("refused"), Outcome.UNAVAILABLE),
        (TimeoutError("timed out"), Outcome.UNAVAILABLE),
        (smtplib.SMTPConnectError(421, b"too busy"), Outcome.UNAVAILABLE),
        (smtplib.SMTPSenderRefused(451, b"later", "portal@example.org"), Outcome.UNAVAILABLE),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}), Outcome.BOUNCE),
        (smtplib.SMTPDataError(550, b"mailbox unavailable"), Outcome.BOUNCE),
        (smtplib.SMTPDataError(551, b"user not local"), Outcome.BOUNCE),
        (smtplib.SMTPDataError(553, b"mailbox name invalid"), Outcome.BOUNCE),
        (smtplib.SMTPDataError(554, b"looks like spam"), Outcome.REJECT),
        (smtplib.SMTPDataError(552, b"too big"), Outcome.REJECT),
        (LOGIN_REFUSED, Outcome.PAUSE),
        (smtplib.SMTPAuthenticationError(534, b"stronger auth required"), Outcome.PAUSE),
        (smtplib.SMTPAuthenticationError(530, b"authentication required"), Outcome.PAUSE),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), Outcome.PAUSE),
        (smtplib.SMTPSenderRefused(553, b"not our domain", "portal@example.org"), Outcome.PAUSE),
        (ssl.SSLError(1, "wrong version number"), Outcome.PAUSE),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), Outcome.PAUSE),
        (ValueError("bad header"), Outcome.ERROR),
    ],
)
def test_one_classifier_reads_every_smtp_outcome(error, outcome):
    assert smtp.classify(error) == outcome


# ---------------------------------------------------------------------------------------------
# Transactional messages


class _FailingConnection:
    def __init__(self, error):
        self.error = error

    def send_messages(self, messages):
        raise self.error


def _message(key="engine:1", recipient="planner@aarhus.dk") -> OutgoingMessage:
    return outbox.enqueue(
        key=key, kind="test", recipient=recipient, subject="Hello", text="Plain", html="<p>x</p>"
    )


def test_a_refused_login_pauses_sending_and_leaves_the_transactional_message_pending(db, settings):
    settings.MAIL_PAUSE_SECONDS = 600
    message, waiting = _message(), _message(key="engine:2")
    assert sending.deliver(message.pk, connection=_FailingConnection(LOGIN_REFUSED)) is False
    message.refresh_from_db()
    until = smtp.paused_until()
    assert until is not None and until > timezone.now() + dt.timedelta(seconds=590)
    assert (message.status, message.attempts) == (Message.PENDING, 0)  # no attempt spent
    assert message.next_attempt_at >= until and message.published_at is None
    assert "535" in message.last_error
    # Every sender checks before claiming: the next message waits for the pause too.
    assert sending.deliver(waiting.pk) is False
    waiting.refresh_from_db()
    assert waiting.status == Message.PENDING and waiting.next_attempt_at >= until and mail.outbox == []
    assert sending.sweep() == 0  # nothing published while paused

    SendingPause.objects.update(until=timezone.now())  # the pause is over
    OutgoingMessage.objects.update(next_attempt_at=timezone.now())
    assert sending.sweep() == 2 and len(mail.outbox) == 2


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPSenderRefused(553, b"sender not allowed", "portal@example.org"),
        smtplib.SMTPNotSupportedError("AUTH extension not supported"),
        ssl.SSLError(1, "wrong version number"),
    ],
)
def test_configuration_errors_never_fail_a_message(db, error):
    message = _message()
    assert sending.deliver(message.pk, connection=_FailingConnection(error)) is False
    message.refresh_from_db()
    assert message.status == Message.PENDING and smtp.paused_until() is not None


def test_a_temporary_failure_waits_the_configured_back_off(db, settings):
    settings.MAIL_RETRY_BASE_SECONDS = 120
    message = _message()
    before = timezone.now()
    with pytest.raises(sending.TransientSendError):
        sending.deliver(message.pk, connection=_FailingConnection(smtplib.SMTPDataError(451, b"later")))
    message.refresh_from_db()
    assert before + dt.timedelta(seconds=119) < message.next_attempt_at < before + dt.timedelta(seconds=130)
    assert smtp.backoff(1) == dt.timedelta(seconds=120) and smtp.backoff(3) == dt.timedelta(seconds=480)
    settings.MAIL_RETRY_MAX_SECONDS = 300
    assert smtp.backoff(10) == dt.timedelta(seconds=300)


def test_a_transactional_claim_that_expired_too_often_fails(db, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = _message()
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=Message.SENDING, attempts=3, claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert sending.recover_stale_claims() == 0
    message.refresh_from_db()
    assert message.status == Message.FAILED and "expired too often" in message.last_error


# ---------------------------------------------------------------------------------------------
# Newsletter deliveries


class RefusingBackend(locmem.EmailBackend):
    """The test outbox, whose server refuses what a test sets, when the connection opens."""

    error: Exception | None = None

    def open(self):
        if self.error is not None:
            raise self.error
        return True


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = "tests.mail.test_mail_engine.RefusingBackend"
    yield RefusingBackend
    RefusingBackend.error = None


def _sending_edition(readers: int = 3) -> Edition:
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n}@example.org", status=Subscriber.Status.ACTIVE, language="en")
        for n in range(readers)
    )
    edition = Edition.objects.create(subject="Spring", body="Hello.", include_upcoming_events=False)
    delivery.send_now(edition, by=None)
    delivery.start_due_editions()
    return edition


def test_a_refused_login_pauses_the_newsletter_too_and_the_edition_resumes_after_it(
    db, refusing, settings, monkeypatch
):
    published = []
    monkeypatch.setattr(
        delivery, "publish_batch", lambda edition_id, size=None: published.append(edition_id) or True
    )
    edition = _sending_edition()
    refusing.error = LOGIN_REFUSED
    result = delivery.send_batch(edition.pk, 10)
    assert result.interrupted and result.sent == 0
    assert set(edition.deliveries.values_list("status", "attempts")) == {(Status.PENDING, 0)}
    until = smtp.paused_until()
    assert until is not None
    assert all(d.next_attempt_at >= until for d in edition.deliveries.all())
    # Paused for the transactional messages as well: one pause for all sending.
    message = _message()
    assert sending.deliver(message.pk) is False and mail.outbox == []
    # The tick publishes nothing while paused.
    assert delivery.recover()["republished"] == 0 and published == []

    refusing.error = None
    after = until + dt.timedelta(seconds=settings.NEWSLETTER_IDLE_SECONDS + 1)
    SendingPause.objects.update(until=timezone.now())
    assert delivery.recover(after)["republished"] == 1 and published == [edition.pk]
    Delivery.objects.update(next_attempt_at=None)  # as the clock reaches `after`
    assert delivery.send_batch(edition.pk, 10).sent == 3
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SENT


def test_an_edition_resumes_as_soon_as_the_back_off_allows(db, refusing, settings, monkeypatch):
    settings.MAIL_RETRY_BASE_SECONDS = 10
    settings.NEWSLETTER_IDLE_SECONDS = 15
    published = []
    monkeypatch.setattr(
        delivery, "publish_batch", lambda edition_id, size=None: published.append(edition_id) or True
    )
    edition = _sending_edition()
    Edition.objects.filter(pk=edition.pk).update(started_at=timezone.now() - dt.timedelta(minutes=1))
    refusing.error = ConnectionRefusedError("SMTP server down")
    assert delivery.send_batch(edition.pk, 10).interrupted
    now = timezone.now()
    assert delivery.recover(now + dt.timedelta(seconds=5))["republished"] == 0  # backing off
    # Not the 5 minutes it once was: after the back-off and the idle time, the next tick.
    assert delivery.recover(now + dt.timedelta(seconds=20))["republished"] == 1


def test_a_recipient_refused_for_good_bounces_in_both_engines(db, monkeypatch):
    gone = smtplib.SMTPRecipientsRefused({"reader0@example.org": (550, b"no such user")})
    message = _message(recipient="reader0@example.org")
    assert sending.deliver(message.pk, connection=_FailingConnection(gone)) is False
    assert OutgoingMessage.objects.get(pk=message.pk).status == Message.FAILED
    edition = _sending_edition(1)

    class Refusing(locmem.EmailBackend):
        def send_messages(self, messages):
            raise gone

    monkeypatch.setattr(delivery, "get_connection", lambda: Refusing())
    assert delivery.send_batch(edition.pk, 10).failed == 1
    assert Subscriber.objects.get().bounce_count == 1 and smtp.paused_until() is None


# ---------------------------------------------------------------------------------------------
# The shared claims and publisher


def test_the_claim_takes_only_due_rows_and_counts_an_attempt(db):
    edition = _sending_edition(2)
    first, second = edition.deliveries.order_by("pk")
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    assert claims.claim(delivery.DELIVERIES, edition.deliveries.all(), 10) == [first.pk]
    assert claims.claim(delivery.DELIVERIES, edition.deliveries.all(), 10) == []
    first.refresh_from_db()
    assert (first.status, first.attempts) == (Status.SENDING, 1)


def test_both_engines_publish_through_the_one_publisher(db, monkeypatch):
    handed = []
    monkeypatch.setattr(
        publishing, "hand_to_broker", lambda name, *args, **kwargs: handed.append(name) or True
    )
    outbox.publish(_message().pk)
    delivery.publish_batch(1)
    assert handed == ["mail.tasks.send_message", "newsletters.tasks.send_edition_batch"]


# ---------------------------------------------------------------------------------------------
# Admin


def test_the_pause_shows_in_admin_with_its_reason_and_retry_interval(client, superuser, settings):
    settings.MAIL_PAUSE_SECONDS = 300
    client.force_login(superuser)
    assert "Sending is paused" not in client.get(reverse("admin:index")).text
    smtp.pause_sending(LOGIN_REFUSED)
    for url in (
        reverse("admin:index"),
        reverse("admin:outbox_outgoingmessage_changelist"),
        reverse("admin:newsletters_edition_changelist"),
    ):
        page = client.get(url).text
        assert "Sending is paused: the SMTP server refused the portal&#x27;s login (535)" in page, url
        assert "retrying every 5 minutes" in page
