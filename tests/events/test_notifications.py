import datetime as dt
import email.utils

import pytest
from django.core import mail
from django.forms import SplitDateTimeField
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import time_format

from events import selectors
from events.models import ContactPerson, DayPart
from events.services import lifecycle, registrations
from mail.models import OutgoingMessage
from tests import factories
from tests.events.notified import only_mail_to, register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    """Service calls in these tests commit (and so publish) at the end of each with-block."""
    return django_capture_on_commit_callbacks


def _html(message):
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_confirmation_has_both_parts_ics_meeting_link_and_proper_headers(member, _send_on_commit, settings):
    settings.NETWORK_NAME = "KL Netværk"
    event = factories.event(title="Charging meeting", half_days=2)
    contact = ContactPerson.objects.create(name="Karen Holm", email="karen@kl.dk")
    event.contacts.add(contact)
    occasion = event.occasions.get()
    register_for(member, occasion, _send_on_commit)

    message = only_mail_to(member)
    assert message.subject == "Registration confirmed: Charging meeting"
    assert email.utils.parseaddr(message.from_email)[0] == "KL Netværk"
    assert message.reply_to == ["karen@kl.dk"]
    assert message.extra_headers["Message-ID"].startswith("<") and message.extra_headers[
        "Message-ID"
    ].endswith(">")
    assert occasion.online_url in message.body and occasion.online_url in _html(message)
    assert "Jens Kristensen" in message.body and "<html" in _html(message)
    filename, content, mimetype = message.attachments[0]
    assert filename.endswith(".ics") and mimetype.startswith("text/calendar")
    assert content.count("BEGIN:VEVENT") == 2
    # Times in the portal's time zone, in the member's format.
    start = timezone.localtime(occasion.day_parts.first().starts_at)
    assert start.hour == occasion.day_parts.first().starts_at.hour + 1  # Copenhagen in winter
    assert time_format(start, "TIME_FORMAT") in message.body


def test_messages_are_in_the_recipients_language(member, _send_on_commit):
    member.preferred_language = "sv"
    member.save()
    event = factories.event(title="Workshop")
    register_for(member, event.occasions.get(), _send_on_commit)
    message = only_mail_to(member)
    with translation.override("sv"):
        expected = translation.gettext("Registration confirmed: %(title)s") % {"title": "Workshop"}
    assert message.subject == expected != "Registration confirmed: Workshop"
    assert OutgoingMessage.objects.get(recipient=member.email).language == "sv"


def test_waiting_list_message_gives_the_position_and_no_meeting_link(
    member, colleague, other_member, _send_on_commit
):
    occasion = factories.event(capacities=(1,)).occasions.get()
    register_for(member, occasion, _send_on_commit)
    register_for(other_member, occasion, _send_on_commit)
    register_for(colleague, occasion, _send_on_commit)
    message = only_mail_to(colleague)
    assert message.subject.startswith("On the waiting list:")
    assert "number 2 on the waiting list" in message.body
    assert occasion.online_url not in message.body and occasion.online_url not in _html(message)


def test_cancelling_sends_a_cancellation_and_a_promotion(member, other_member, _send_on_commit):
    occasion = factories.event(capacities=(1,)).occasions.get()
    holder = register_for(member, occasion, _send_on_commit)
    register_for(other_member, occasion, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.cancel(holder, actor=member)
    assert only_mail_to(member).subject.startswith("Registration cancelled:")
    promoted = only_mail_to(other_member)
    assert promoted.subject.startswith("You have a seat:") and occasion.online_url in promoted.body


def test_changed_time_is_announced_to_everyone_registered(member, other_member, _send_on_commit):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    register_for(member, occasion, _send_on_commit)
    register_for(other_member, occasion, _send_on_commit)
    mail.outbox.clear()
    before = selectors.schedule_snapshot(event)
    DayPart.objects.filter(occasion=occasion).update(starts_at=occasion.starts_at + dt.timedelta(hours=1))
    with _send_on_commit(execute=True):
        assert lifecycle.announce_changes(event, before) == 2
    message = only_mail_to(member)
    assert message.subject.startswith("Changed:") and "The time has changed." in message.body
    assert message.attachments  # the updated calendar file
    # Nothing changed: nobody is written to.
    assert lifecycle.announce_changes(event, selectors.schedule_snapshot(event)) == 0


def test_event_cancelled_notice_to_everyone_registered(member, other_member, organizer, _send_on_commit):
    event = factories.event(capacities=(1,))
    register_for(member, event.occasions.get(), _send_on_commit)
    register_for(other_member, event.occasions.get(), _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        assert lifecycle.cancel_event(event, organizer=organizer) == 2
    assert only_mail_to(member).subject.startswith("Cancelled:")
    assert event.occasions.get().online_url not in only_mail_to(member).body


def test_organizer_writes_to_participants_from_admin(
    client, organizer, member, other_member, _send_on_commit
):
    event = factories.event(capacities=(1,))
    register_for(member, event.occasions.get(), _send_on_commit)
    register_for(other_member, event.occasions.get(), _send_on_commit)  # waiting
    mail.outbox.clear()
    client.force_login(organizer)
    client.post(
        reverse("admin:events_event_message", args=[event.pk]),
        {
            "subject": "Bring a laptop",
            "body": "Please bring **a laptop**.",
            "recipients": "confirmed",
            "occasion": "",
            "nonce": "f00d",
            "send": "1",
        },
    )
    message = only_mail_to(member)
    assert message.subject == "Bring a laptop"
    assert "<strong>a laptop</strong>" in _html(message)
    assert not [m for m in mail.outbox if m.to == [other_member.email]]  # waiting list not included


def test_account_emails_go_through_the_outbox_with_an_html_part(client, db):
    client.post(
        reverse("account_signup"),
        {"email": "new@aarhus.dk", "password1": "a-long-pass-2026", "password2": "a-long-pass-2026"},
    )
    record = OutgoingMessage.objects.get(recipient="new@aarhus.dk")
    assert record.status == OutgoingMessage.Status.SENT and record.sensitive
    sent = mail.outbox[0]
    assert "/accounts/confirm-email/" in sent.body
    assert "/accounts/confirm-email/" in sent.alternatives[0][0] and sent.alternatives[0][1] == "text/html"
    # The link is a secret of the member's: not kept once sent.
    assert "/accounts/confirm-email/" not in record.body_text + record.body_html


def _admin_form_data(response) -> dict:
    """The POST data of an admin change form as the browser would send it unchanged."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += list(formset.forms)
        data.update({f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()})
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif isinstance(field, SplitDateTimeField):
                local = timezone.localtime(value)
                data[f"{key}_0"], data[f"{key}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
            else:
                data[key] = value
    return data


def test_an_organizer_moving_an_occasion_in_admin_tells_the_participants(
    client, organizer, member, _send_on_commit
):
    event = factories.event()
    occasion = event.occasions.get()
    register_for(member, occasion, _send_on_commit)
    mail.outbox.clear()
    client.force_login(organizer)
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = _admin_form_data(client.get(url))
    data["venue"] = "Aarhus Rådhus"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    occasion.refresh_from_db()
    assert occasion.venue == "Aarhus Rådhus"
    message = only_mail_to(member)
    assert "The place has changed." in message.body and "Aarhus Rådhus" in message.body


def test_a_double_submitted_organizer_message_goes_once(client, organizer, member, _send_on_commit):
    event = factories.event()
    register_for(member, event.occasions.get(), _send_on_commit)
    mail.outbox.clear()
    client.force_login(organizer)
    form = {
        "subject": "Room change",
        "body": "We meet in room 2.",
        "recipients": "confirmed",
        "occasion": "",
        "nonce": "same-page",
        "send": "1",
    }
    client.post(reverse("admin:events_event_message", args=[event.pk]), form)
    client.post(reverse("admin:events_event_message", args=[event.pk]), form)
    assert len([m for m in mail.outbox if m.subject == "Room change"]) == 1


def test_a_cancellation_carries_a_cancelled_calendar_entry(member, _send_on_commit):
    occasion = factories.event().occasions.get()
    registration = register_for(member, occasion, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.cancel(registration, actor=member)
    _filename, content, _mimetype = only_mail_to(member).attachments[0]
    assert "STATUS:CANCELLED" in content and f"registration-{registration.pk}-part-1@" in content


def test_every_kind_of_message_is_in_the_recipients_language_with_both_parts_and_reply_to(
    member, other_member, organizer, _send_on_commit
):
    from mail import services as outbox

    for person in (member, other_member):
        person.preferred_language = "sv"
        person.save()
    event = factories.event(capacities=(1,))
    event.contacts.add(ContactPerson.objects.create(name="Maria Ek", email="maria@lansstyrelsen.se"))
    occasion = event.occasions.get()
    holder = register_for(member, occasion, _send_on_commit)  # confirmed
    register_for(other_member, occasion, _send_on_commit)  # waiting list
    with _send_on_commit(execute=True):
        registrations.cancel(holder, actor=member)  # cancellation + promotion
        before = selectors.schedule_snapshot(event)
        occasion.venue = "Ny lokal"
        occasion.save()
        lifecycle.announce_changes(event, before)  # changed
        lifecycle.message_participants(event, subject="Hej", body="Text", organizer=organizer)
    # Sent first: messages are rendered when sent, and the ones above that are still waiting
    # when the event is cancelled are withdrawn (the cancellation tells the participants).
    with _send_on_commit(execute=True):
        lifecycle.cancel_event(event, organizer=organizer)  # cancelled
    records = OutgoingMessage.objects.exclude(kind__startswith="account")
    kinds = set(records.values_list("kind", flat=True))
    assert kinds >= {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_cancelled",
        "registration_promoted",
        "event_changed",
        "organizer_message",
        "event_cancelled",
    }
    for record in records:
        assert record.language == "sv" and record.reply_to == "maria@lansstyrelsen.se", record.kind
        assert record.body_text.strip() and "<html" in record.body_html and record.message_id, record.kind
        if record.kind != "organizer_message":
            english, _text, _html = outbox.render(record.kind, {"event": event, "days": 1}, "en")
            assert record.subject != english, record.kind
