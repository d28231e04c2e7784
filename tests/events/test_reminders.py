"""Reminders before an occasion: to confirmed participants once in each window, never stale, at
local times, per-event offsets, and again after a postponement or a move."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import time_format

from events import selectors
from events.models import DayPart, Registration
from events.services import lifecycle, registrations
from tests import factories
from tests.conftest import make_member
from tests.events.notified import only_mail_to, register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    """Service calls in these tests commit (and so publish) at the end of each with-block."""
    return django_capture_on_commit_callbacks


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
        _confirm_long_ago(register_for(person, occasion, _send_on_commit))
    registrations.cancel(Registration.objects.get(user=colleague), actor=colleague)
    waiting = Registration.objects.get(user=other_member)
    assert waiting.status == Registration.Status.CONFIRMED  # promoted when colleague cancelled
    Registration.objects.filter(user=other_member).update(status=Registration.Status.WAITLISTED)
    mail.outbox.clear()

    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1
        assert lifecycle.send_due_reminders() == 0  # the job runs again: nothing twice
    assert only_mail_to(member).subject == f"In 7 days: {event.title}"

    # Six days later the 1-day reminder is due, once.
    later = timezone.now() + dt.timedelta(days=6)
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders(at=later) == 1
        assert lifecycle.send_due_reminders(at=later) == 0
    assert [m.subject for m in mail.outbox if m.to == [member.email]][-1] == f"Tomorrow: {event.title}"


def test_a_late_job_sends_no_stale_reminder(member, _send_on_commit):
    event, occasion = _event_in(0.5)
    _confirm_long_ago(register_for(member, occasion, _send_on_commit))
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1
    assert only_mail_to(member).subject == f"Tomorrow: {event.title}"


def test_people_who_registered_after_the_reminder_time_get_no_reminder(member, _send_on_commit):
    _event, occasion = _event_in(3)
    register_for(member, occasion, _send_on_commit)  # confirmed now, after the 7-day point
    assert lifecycle.send_due_reminders() == 0


def test_reminder_offsets_are_set_per_event(member, _send_on_commit):
    event, occasion = _event_in(2.5)
    event.reminder_days = [3]
    event.save()
    _confirm_long_ago(register_for(member, occasion, _send_on_commit))
    assert lifecycle.send_due_reminders() == 1


def test_reminder_job_reads_only_occasions_that_are_due(member, aarhus, _send_on_commit):
    _event_in(6.5)
    with CaptureQueriesContext(connection) as few:
        lifecycle.send_due_reminders()
    # Many registrations for an occasion months away: the job does not look at them.
    _far, far_occasion = _event_in(120, capacities=(50,))
    for index in range(20):
        register_for(make_member(f"far{index}@aarhus.dk", aarhus), far_occasion, _send_on_commit)
    with CaptureQueriesContext(connection) as many:
        lifecycle.send_due_reminders()
    assert len(many) == len(few)


def test_reminder_times_are_local(member, _send_on_commit, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    member.preferred_language = "sv"
    member.save()
    _event, occasion = _event_in(0.5)
    _confirm_long_ago(register_for(member, occasion, _send_on_commit))
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        lifecycle.send_due_reminders()
    local = timezone.localtime(occasion.day_parts.get().starts_at, timezone=ZoneInfo("Europe/Stockholm"))
    with translation.override("sv"):
        assert time_format(local, "TIME_FORMAT") in only_mail_to(member).body


def test_a_postponed_occasion_is_reminded_of_again(member, _send_on_commit):
    event, occasion = _event_in(0.5)
    _confirm_long_ago(register_for(member, occasion, _send_on_commit))
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
    registration = register_for(member, first, _send_on_commit)
    _confirm_long_ago(registration)
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1  # tomorrow, for the first date
        registrations.move(registration, second, actor=member)
    Registration.objects.filter(pk=registration.pk).update(
        confirmed_at=timezone.now() - dt.timedelta(days=30)
    )
    with _send_on_commit(execute=True):
        assert lifecycle.send_due_reminders() == 1  # in 7 days, for the new date
