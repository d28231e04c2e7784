"""Hole 3 of issue 8, the stored side: a sign-in code or reset link is never readable from the
database by staff (encrypted at rest, removed once sent, failed or expired); organizers see only
their teams' messages; bodies go after the retention period; a member's emails are part of their
data download and erased with their account."""

import datetime as dt
import json
import re
import smtplib

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mail import retention, secrets, sending, tasks
from mail import services as outbox
from mail.models import OutgoingMessage
from members import privacy
from tests import factories

Status = OutgoingMessage.Status
CODE = "K7QX-M2PA"
CHANGELIST = "admin:outbox_outgoingmessage_changelist"


def _secret(key="account:1", recipient="root@example.org", **fields):
    return outbox.enqueue(
        key=key,
        kind="login_code",
        recipient=recipient,
        subject="[Green Mobility Network] Sign-In Code",
        text=f"Your sign-in code is {CODE}.",
        html=f"<p>Your sign-in code is <strong>{CODE}</strong>.</p>",
        sensitive=True,
        **fields,
    )


def _notice(key="event:1", recipient="planner@aarhus.dk", **fields):
    return outbox.enqueue(
        key=key,
        kind=fields.pop("kind", "registration_confirmed"),
        recipient=recipient,
        subject=fields.pop("subject", "Registration confirmed"),
        text="See you there.",
        html="<p>See you there.</p>",
        attachments=[{"filename": "a.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
        **fields,
    )


def _stored(message) -> str:
    """Every column of the row as the database holds it."""
    return json.dumps(
        list(OutgoingMessage.objects.filter(pk=message.pk).values().get().values()), default=str
    )


class _FailingConnection:
    def __init__(self, error):
        self.error = error

    def send_messages(self, messages):
        raise self.error


@pytest.fixture
def smtp_down(monkeypatch):
    """The broker takes the task, but no email leaves: the message waits, pending."""
    published = []
    monkeypatch.setattr(tasks.send_message, "delay", published.append)
    return published


# --- encrypted at rest ------------------------------------------------------------------------


def test_it_stores_the_bodies_of_a_secret_encrypted(db):
    message = _secret()
    stored = _stored(message)
    assert CODE not in stored
    message.refresh_from_db()
    assert secrets.is_sealed(message.body_text) and secrets.is_sealed(message.body_html)
    assert message.subject == "[Green Mobility Network] Sign-In Code"  # allauth's subject holds no secret


def test_it_sends_the_decrypted_secret_and_then_removes_it(db):
    message = _secret()
    assert sending.deliver(message.pk) is True
    sent = mail.outbox[0]
    assert CODE in sent.body and CODE in sent.alternatives[0][0]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.body_removed_at
    assert "removed" in message.body_text and CODE not in _stored(message)


def test_it_keeps_ordinary_messages_readable(db):
    message = _notice()
    message.refresh_from_db()
    assert message.body_text == "See you there." and not secrets.is_sealed(message.body_html)


def test_a_secret_sealed_before_a_key_rotation_is_still_sent(db, settings):
    old_key = django_settings.SECRET_KEY
    message = _secret()
    settings.SECRET_KEY = "a-brand-new-key-" + "x7Q2" * 12
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert sending.deliver(message.pk) is True
    assert CODE in mail.outbox[0].body


def test_a_secret_sealed_with_a_forgotten_key_fails_and_is_removed(db, settings):
    message = _secret()
    settings.SECRET_KEY = "a-brand-new-key-" + "x7Q2" * 12
    settings.SECRET_KEY_FALLBACKS = []
    assert sending.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.FAILED and "SECRET_KEY_FALLBACKS" in message.last_error
    assert message.body_removed_at and mail.outbox == []


def test_the_takeover_of_the_report_no_longer_works(client, superuser, organizer, smtp_down):
    """With SMTP down, a visitor asks for the superuser's sign-in code; an organizer with outbox
    rights finds no message to probe, a probe is refused, and the row holds no code."""
    organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="outbox"))
    factories.organizer_team("KL", organizer)
    client.post(reverse("account_request_login_code"), {"email": superuser.email})
    record = OutgoingMessage.objects.get(recipient=superuser.email, kind="login_code")
    assert record.status == Status.PENDING
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", secrets.unseal(record.body_text)).group(1)
    assert code not in _stored(record)

    staff = Client()
    staff.force_login(organizer)
    assert superuser.email not in staff.get(reverse(CHANGELIST)).text
    assert staff.get(reverse(CHANGELIST), {"body_text__regex": f"^{code[0]}"}).status_code == 400
    change = staff.get(reverse("admin:outbox_outgoingmessage_change", args=[record.pk]))
    assert change.status_code == 302 and code not in change.text  # "does not exist", to the index


# --- removed on failure and expiry ------------------------------------------------------------


def test_a_secret_is_removed_when_sending_fails_for_good(db):
    message = _secret()
    rejected = _FailingConnection(smtplib.SMTPDataError(550, b"no such user"))
    assert sending.deliver(message.pk, connection=rejected) is False
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.body_removed_at
    assert "removed" in message.body_text and CODE not in _stored(message)
    assert sending.resend(message) is False  # nothing left to send: the member asks for a new code


def test_a_secret_is_removed_after_the_last_attempt(db, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = _secret()
    with pytest.raises(sending.TransientSendError):
        sending.deliver(message.pk, connection=_FailingConnection(ConnectionRefusedError("refused")))
    message.refresh_from_db()
    assert message.status == Status.FAILED and CODE not in _stored(message)


def test_a_secret_waiting_for_a_retry_stays_encrypted(db):
    message = _secret()
    with pytest.raises(sending.TransientSendError):
        sending.deliver(message.pk, connection=_FailingConnection(ConnectionRefusedError("refused")))
    message.refresh_from_db()
    assert message.status == Status.PENDING and secrets.is_sealed(message.body_text)


def test_the_sweep_withdraws_a_secret_unsent_after_its_ttl(db, settings, smtp_down):
    settings.OUTBOX_SECRET_TTL = 600
    expired, fresh = _secret(key="account:old"), _secret(key="account:new")
    OutgoingMessage.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=601)
    )
    sending.sweep()
    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert expired.status == Status.WITHDRAWN and "expired" in expired.body_text and expired.body_removed_at
    assert CODE not in _stored(expired)
    assert fresh.status == Status.PENDING and smtp_down == [fresh.pk]


def test_an_expired_secret_is_never_sent_late(db, settings):
    settings.OUTBOX_SECRET_TTL = 600
    message = _secret()
    OutgoingMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=601)
    )
    assert sending.deliver(message.pk) is False  # the task ran before any sweep
    message.refresh_from_db()
    assert message.status == Status.WITHDRAWN and mail.outbox == [] and CODE not in _stored(message)


def test_a_withdrawn_secret_is_removed(db):
    sending.register_suppression("login_code", lambda message: False)
    try:
        message = _secret()
        assert sending.deliver(message.pk) is False
    finally:
        sending._suppressions.pop("login_code")
    message.refresh_from_db()
    assert message.status == Status.WITHDRAWN and CODE not in _stored(message)


# --- team scoping -----------------------------------------------------------------------------


@pytest.fixture
def outbox_organizer(organizer):
    organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="outbox"))
    return organizer


def test_organizers_see_only_their_teams_messages(client, outbox_organizer, superuser):
    team_a = factories.organizer_team("Team A", outbox_organizer)
    team_b = factories.organizer_team("Team B")
    ours = _notice(key="event:a", recipient="ours@aarhus.dk", team=team_a)
    theirs = _notice(key="event:b", recipient="theirs@odense.dk", team=team_b)
    account = _secret(recipient="someone@aarhus.dk")

    client.force_login(outbox_organizer)
    listing = client.get(reverse(CHANGELIST)).text
    assert "ours@aarhus.dk" in listing
    assert "theirs@odense.dk" not in listing and "someone@aarhus.dk" not in listing
    assert client.get(reverse("admin:outbox_outgoingmessage_change", args=[ours.pk])).status_code == 200
    for hidden in (theirs, account):
        assert client.get(reverse("admin:outbox_outgoingmessage_change", args=[hidden.pk])).status_code == 302

    client.force_login(superuser)
    listing = client.get(reverse(CHANGELIST)).text
    assert all(address in listing for address in ("ours@aarhus.dk", "theirs@odense.dk", "someone@aarhus.dk"))


def test_an_organizer_cannot_resend_another_teams_message(client, outbox_organizer):
    factories.organizer_team("Team A", outbox_organizer)
    theirs = _notice(team=factories.organizer_team("Team B"))
    OutgoingMessage.objects.filter(pk=theirs.pk).update(status=Status.FAILED)
    client.force_login(outbox_organizer)
    client.post(reverse(CHANGELIST), {"action": "resend", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == Status.FAILED and mail.outbox == []


def test_visible_to_gives_staff_their_teams_and_members_nothing(db, outbox_organizer, member, superuser):
    team = factories.organizer_team("Team A", outbox_organizer)
    ours = _notice(key="event:a", team=team)
    _notice(key="event:none")
    assert list(OutgoingMessage.objects.visible_to(outbox_organizer)) == [ours]
    assert not OutgoingMessage.objects.visible_to(member).exists()
    assert OutgoingMessage.objects.visible_to(superuser).count() == 2


# --- retention --------------------------------------------------------------------------------


def _age(message, days, status=Status.SENT):
    OutgoingMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days), status=status
    )


def test_retention_removes_old_bodies_and_keeps_the_record(db, settings):
    settings.OUTBOX_RETENTION_DAYS = 90
    old = _notice(key="event:old", headers={"List-Unsubscribe": "<https://portal/u/signed>"})
    old_failed, recent, old_pending = _notice(key="event:f"), _notice(key="event:new"), _notice(key="event:p")
    _age(old, 91)
    _age(old_failed, 91, Status.FAILED)
    _age(recent, 89)
    _age(old_pending, 91, Status.PENDING)

    assert tasks.remove_old_message_bodies() == 2
    assert retention.remove_old_bodies() == 0  # done once

    old.refresh_from_db()
    assert "retention" in old.body_text and "retention" in old.body_html
    assert old.attachments == [] and old.headers == {} and old.body_removed_at
    assert (old.recipient, old.subject, old.status) == (
        "planner@aarhus.dk",
        "Registration confirmed",
        Status.SENT,
    )
    recent.refresh_from_db()
    old_pending.refresh_from_db()
    assert recent.body_text == old_pending.body_text == "See you there."


def test_retention_runs_daily_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["outbox-retention"]
    assert entry["task"] == tasks.remove_old_message_bodies.name
    assert entry["schedule"] == 24 * 60 * 60.0


def test_the_change_page_shows_when_the_body_goes(client, superuser, settings):
    settings.OUTBOX_RETENTION_DAYS = 90
    message = _notice()
    client.force_login(superuser)
    page = client.get(reverse("admin:outbox_outgoingmessage_change", args=[message.pk])).text
    due = timezone.localtime(message.created_at + dt.timedelta(days=90))
    assert "Body removal" in page and f"{due:%Y}" in page
    assert retention.body_removal_due(message) == message.created_at + dt.timedelta(days=90)

    secret = _secret()
    assert retention.body_removal_due(secret) == secret.created_at + dt.timedelta(
        seconds=settings.OUTBOX_SECRET_TTL
    )
    page = client.get(reverse("admin:outbox_outgoingmessage_change", args=[secret.pk])).text
    assert "When it is sent, at the latest on" in page

    sending.deliver(secret.pk)
    secret.refresh_from_db()
    assert retention.body_removal_due(secret) is None
    assert "Removed on" in client.get(reverse("admin:outbox_outgoingmessage_change", args=[secret.pk])).text


# --- the member's data rights -----------------------------------------------------------------


def test_the_members_emails_are_in_their_data_download_without_secrets(db, member, other_member):
    _notice(key="event:1", recipient=member.email, user=member)
    _secret(key="account:1", recipient=member.email.upper())  # before the account was linked
    _notice(key="event:2", recipient=other_member.email, user=other_member)
    holder = next(holder for holder in privacy.holders() if holder.name == "emails")
    exported = holder.export(member)
    assert [row["kind"] for row in exported] == ["registration_confirmed", "login_code"]
    assert set(exported[0]) == {"date", "recipient", "subject", "kind", "status"}
    assert CODE not in json.dumps(exported)


def test_erasing_an_account_deletes_its_messages_after_the_registrations(
    member, other_member, django_capture_on_commit_callbacks
):
    from events.services import registrations

    holders = {holder.name: holder for holder in privacy.holders()}
    assert holders["registrations"].order < holders["emails"].order
    registration = registrations.register(member, factories.event().occasions.get())
    # The member has had the confirmation, so a cancellation is news to them.
    OutgoingMessage.objects.filter(user=member).update(status=Status.SENT)
    _secret(key="account:1", recipient=member.email.upper())  # by address, not linked
    kept = _notice(key="event:other", recipient=other_member.email, user=other_member)
    with django_capture_on_commit_callbacks(execute=True):
        # As the account erasure runs them, in one transaction: the registration is cancelled
        # (a notice to the member is written), then the member's messages are erased.
        holders["registrations"].erase(member)
        registration.refresh_from_db()
        assert registration.status == registration.Status.CANCELLED
        assert OutgoingMessage.objects.filter(user=member, kind="registration_cancelled").exists()
        holders["emails"].erase(member)
    assert list(OutgoingMessage.objects.all()) == [kept]
    # The cancellation's row is gone before its send was published: nothing goes to the member
    # (the publisher woken at the commit sends the other member's waiting notice).
    assert [message.to for message in mail.outbox] == [[other_member.email]]


def test_the_outbox_names_each_kind(client, superuser):
    _secret()
    client.force_login(superuser)
    listing = client.get(reverse(CHANGELIST)).text
    assert "Sign-in code" in listing and ">login_code<" not in listing
    faceted = client.get(reverse(CHANGELIST), {"_facets": "True"}).text
    assert "Sign-in code (1)" in faceted


def test_the_migration_seals_or_removes_secrets_stored_before_encryption(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("mail.migrations.0005_body_removed_at")
    legacy = {"kind": "login_code", "recipient": "root@example.org", "subject": "Sign-In Code"}
    waiting = OutgoingMessage.objects.create(
        **legacy, idempotency_key="a:1", message_id="<1@x>", sensitive=True, body_text=CODE, body_html=CODE
    )
    failed = OutgoingMessage.objects.create(
        **legacy, idempotency_key="a:2", message_id="<2@x>", sensitive=True, body_text=CODE, body_html=CODE
    )
    OutgoingMessage.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    migration.seal_stored_secrets(apps, None)
    assert CODE not in _stored(waiting) and CODE not in _stored(failed)
    waiting.refresh_from_db()
    assert secrets.unseal(waiting.body_text) == CODE
    assert OutgoingMessage.objects.get(pk=failed.pk).body_removed_at
