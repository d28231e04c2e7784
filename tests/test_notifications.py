"""The emails about registrations and events: content, language, attachment, headers, and
reminder selection."""

import datetime as dt
import email.utils
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.forms import SplitDateTimeField
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import time_format

from events import selectors
from events.models import ContactPerson, DayPart, Registration
from events.services import lifecycle, registrations
from mail.models import OutgoingMessage
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    """Service calls in these tests commit (and so publish) at the end of each with-block."""
    return django_capture_on_commit_callbacks


def _register(user, occasion, hooks, **kwargs):
    with hooks(execute=True):
        return registrations.register(user, occasion, **kwargs)


def _only_mail_to(user):
    messages = [message for message in mail.outbox if message.to == [user.email]]
    assert len(messages) == 1, [m.subject for m in messages]
    return messages[0]


def _html(message):
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_confirmation_has_both_parts_ics_meeting_link_and_proper_headers(member, _send_on_commit, settings):
    settings.NETWORK_NAME = "KL Netværk"
    event = factories.event(title="Charging meeting", half_days=2)
    contact = ContactPerson.objects.create(name="Karen Holm", email="karen@kl.dk")
    event.contacts.add(contact)
    occasion = event.occasions.get()
    _register(member, occasion, _send_on_commit)

    message = _only_mail_to(member)
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
    _register(member, event.occasions.get(), _send_on_commit)
    message = _only_mail_to(member)
    with translation.override("sv"):
        expected = translation.gettext("Registration confirmed: %(title)s") % {"title": "Workshop"}
    assert message.subject == expected != "Registration confirmed: Workshop"
    assert OutgoingMessage.objects.get(recipient=member.email).language == "sv"


def test_waiting_list_message_gives_the_position_and_no_meeting_link(
    member, colleague, other_member, _send_on_commit
):
    occasion = factories.event(capacities=(1,)).occasions.get()
    _register(member, occasion, _send_on_commit)
    _register(other_member, occasion, _send_on_commit)
    _register(colleague, occasion, _send_on_commit)
    message = _only_mail_to(colleague)
    assert message.subject.startswith("On the waiting list:")
    assert "number 2 on the waiting list" in message.body
    assert occasion.online_url not in message.body and occasion.online_url not in _html(message)


def test_cancelling_sends_a_cancellation_and_a_promotion(member, other_member, _send_on_commit):
    occasion = factories.event(capacities=(1,)).occasions.get()
    holder = _register(member, occasion, _send_on_commit)
    _register(other_member, occasion, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.cancel(holder, actor=member)
    assert _only_mail_to(member).subject.startswith("Registration cancelled:")
    promoted = _only_mail_to(other_member)
    assert promoted.subject.startswith("You have a seat:") and occasion.online_url in promoted.body


def test_changed_time_is_announced_to_everyone_registered(member, other_member, _send_on_commit):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    _register(member, occasion, _send_on_commit)
    _register(other_member, occasion, _send_on_commit)
    mail.outbox.clear()
    before = selectors.schedule_snapshot(event)
    DayPart.objects.filter(occasion=occasion).update(starts_at=occasion.starts_at + dt.timedelta(hours=1))
    with _send_on_commit(execute=True):
        assert lifecycle.announce_changes(event, before) == 2
    message = _only_mail_to(member)
    assert message.subject.startswith("Changed:") and "The time has changed." in message.body
    assert message.attachments  # the updated calendar file
    # Nothing changed: nobody is written to.
    assert lifecycle.announce_changes(event, selectors.schedule_snapshot(event)) == 0


def test_event_cancelled_notice_to_everyone_registered(member, other_member, organizer, _send_on_commit):
    event = factories.event(capacities=(1,))
    _register(member, event.occasions.get(), _send_on_commit)
    _register(other_member, event.occasions.get(), _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        assert lifecycle.cancel_event(event, organizer=organizer) == 2
    assert _only_mail_to(member).subject.startswith("Cancelled:")
    assert event.occasions.get().online_url not in _only_mail_to(member).body


def test_organizer_writes_to_participants_from_admin(
    client, organizer, member, other_member, _send_on_commit
):
    event = factories.event(capacities=(1,))
    _register(member, event.occasions.get(), _send_on_commit)
    _register(other_member, event.occasions.get(), _send_on_commit)  # waiting
    mail.outbox.clear()
    client.force_login(organizer)
    client.post(
        reverse("admin:events_event_changelist"),
        {
            "action": "write_to_participants",
            "_selected_action": [event.pk],
            "apply": "1",
            "subject": "Bring a laptop",
            "body": "Please bring **a laptop**.",
            "occasion": "",
            "nonce": "f00d",
        },
    )
    message = _only_mail_to(member)
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


# --- reminders -------------------------------------------------------------------------------


def _event_in(days: float, **kwargs):
    event = factories.event(**kwargs)
    occasion = event.occasions.get()
    start = timezone.now() + dt.timedelta(days=days)
    DayPart.objects.filter(occasion=occasion).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    lifecycle.refresh_schedule(event)
    return event, occasion


def _confirm_long_ago(registration):
    Registration.objects.filter(pk=registration.pk).update(
        confirmed_at=timezone.now() - dt.timedelta(days=30)
    )


def test_reminders_go_to_confirmed_participants_once_in_each_window(
    member, colleague, other_member, _send_on_commit
):
    event, occasion = _event_in(6.5, capacities=(2,))
    for person in (member, colleague, other_member):
        _confirm_long_ago(_register(person, occasion, _send_on_commit))
    registrations.cancel(Registration.objects.get(user=colleague), actor=colleague)
    waiting = Registration.objects.get(user=other_member)
    assert waiting.status == Registration.Status.CONFIRMED  # promoted when colleague cancelled
    Registration.objects.filter(user=other_member).update(status=Registration.Status.WAITLISTED)
    mail.outbox.clear()

    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1
        assert lifecycle.send_due_reminders() == 0  # the job runs again: nothing twice
    assert _only_mail_to(member).subject == f"In 7 days: {event.title}"

    # Six days later the 1-day reminder is due, once.
    later = timezone.now() + dt.timedelta(days=6)
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders(at=later) == 1
        assert lifecycle.send_due_reminders(at=later) == 0
    assert [m.subject for m in mail.outbox if m.to == [member.email]][-1] == f"Tomorrow: {event.title}"


def test_a_late_job_sends_no_stale_reminder(member, _send_on_commit):
    event, occasion = _event_in(0.5)
    _confirm_long_ago(_register(member, occasion, _send_on_commit))
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1
    assert _only_mail_to(member).subject == f"Tomorrow: {event.title}"


def test_people_who_registered_after_the_reminder_time_get_no_reminder(member, _send_on_commit):
    _event, occasion = _event_in(3)
    _register(member, occasion, _send_on_commit)  # confirmed now, after the 7-day point
    assert lifecycle.send_due_reminders() == 0


def test_reminder_offsets_are_set_per_event(member, _send_on_commit):
    event, occasion = _event_in(2.5)
    event.reminder_days = [3]
    event.save()
    _confirm_long_ago(_register(member, occasion, _send_on_commit))
    assert lifecycle.send_due_reminders() == 1


def test_reminder_job_reads_only_occasions_that_are_due(member, aarhus, _send_on_commit):
    _event_in(6.5)
    with CaptureQueriesContext(connection) as few:
        lifecycle.send_due_reminders()
    # Many registrations for an occasion months away: the job does not look at them.
    _far, far_occasion = _event_in(120, capacities=(50,))
    for index in range(20):
        _register(make_member(f"far{index}@aarhus.dk", aarhus), far_occasion, _send_on_commit)
    with CaptureQueriesContext(connection) as many:
        lifecycle.send_due_reminders()
    assert len(many) == len(few)


def test_reminder_times_are_local(member, _send_on_commit, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    member.preferred_language = "sv"
    member.save()
    _event, occasion = _event_in(0.5)
    _confirm_long_ago(_register(member, occasion, _send_on_commit))
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        lifecycle.send_due_reminders()
    local = timezone.localtime(occasion.day_parts.get().starts_at, timezone=ZoneInfo("Europe/Stockholm"))
    with translation.override("sv"):
        assert time_format(local, "TIME_FORMAT") in _only_mail_to(member).body


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
    _register(member, occasion, _send_on_commit)
    mail.outbox.clear()
    client.force_login(organizer)
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = _admin_form_data(client.get(url))
    data["venue"] = "Aarhus Rådhus"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    occasion.refresh_from_db()
    assert occasion.venue == "Aarhus Rådhus"
    message = _only_mail_to(member)
    assert "The place has changed." in message.body and "Aarhus Rådhus" in message.body


def test_a_postponed_occasion_is_reminded_of_again(member, _send_on_commit):
    event, occasion = _event_in(0.5)
    _confirm_long_ago(_register(member, occasion, _send_on_commit))
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1
    before = selectors.schedule_snapshot(event)
    new_start = occasion.starts_at + dt.timedelta(days=21)
    DayPart.objects.filter(occasion=occasion).update(
        starts_at=new_start, ends_at=new_start + dt.timedelta(hours=3)
    )
    lifecycle.refresh_schedule(event)
    with _send_on_commit(execute=True):
        lifecycle.announce_changes(event, before)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders(at=new_start - dt.timedelta(days=6)) == 1
        assert lifecycle.send_due_reminders(at=new_start - dt.timedelta(hours=12)) == 1
    assert [m.subject for m in mail.outbox if m.to == [member.email]] == [
        f"In 7 days: {event.title}",
        f"Tomorrow: {event.title}",
    ]


def test_a_moved_registration_is_reminded_of_its_new_date(member, _send_on_commit):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    start = timezone.now() + dt.timedelta(hours=12)
    DayPart.objects.filter(occasion=first).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    later = timezone.now() + dt.timedelta(days=6, hours=12)
    DayPart.objects.filter(occasion=second).update(starts_at=later, ends_at=later + dt.timedelta(hours=3))
    lifecycle.refresh_schedule(event)
    registration = _register(member, first, _send_on_commit)
    _confirm_long_ago(registration)
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1  # tomorrow, for the first date
        registrations.move(registration, second, actor=member)
    Registration.objects.filter(pk=registration.pk).update(
        confirmed_at=timezone.now() - dt.timedelta(days=30)
    )
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1  # in 7 days, for the new date


def test_a_double_submitted_organizer_message_goes_once(client, organizer, member, _send_on_commit):
    event = factories.event()
    _register(member, event.occasions.get(), _send_on_commit)
    mail.outbox.clear()
    client.force_login(organizer)
    form = {
        "action": "write_to_participants",
        "_selected_action": [event.pk],
        "apply": "1",
        "subject": "Room change",
        "body": "We meet in room 2.",
        "occasion": "",
        "nonce": "same-page",
    }
    client.post(reverse("admin:events_event_changelist"), form)
    client.post(reverse("admin:events_event_changelist"), form)
    assert len([m for m in mail.outbox if m.subject == "Room change"]) == 1


def test_a_cancellation_carries_a_cancelled_calendar_entry(member, _send_on_commit):
    occasion = factories.event().occasions.get()
    registration = _register(member, occasion, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.cancel(registration, actor=member)
    _filename, content, _mimetype = _only_mail_to(member).attachments[0]
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
    holder = _register(member, occasion, _send_on_commit)  # confirmed
    _register(other_member, occasion, _send_on_commit)  # waiting list
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
