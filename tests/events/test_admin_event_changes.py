"""The organizers' admin for events: seats and the schedule saved on the event and its occasions,
adding an event, publishing, cancelling and copying."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.admin.models import ADDITION
from django.urls import reverse
from django.utils import timezone

from events.models import (
    AgendaItem,
    ContactPerson,
    DayPart,
    Document,
    Event,
    Registration,
    Speaker,
)
from events.services import lifecycle, registrations
from tests import factories
from tests.admin_forms import form_data
from tests.events.admin_pages import admin_log, events_url, messages_of, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


# --- seats: capacity and the schedule -------------------------------------------------------


def test_occasion_capacity_below_its_confirmed_participants_is_refused(
    organizer_client, member, other_member
):
    event = factories.event(capacities=(2,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)

    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = form_data(organizer_client.get(url), "occasion_form")
    data["capacity"] = ["1"]
    response = organizer_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["capacity"]
    assert errors == [
        "2 participants are confirmed on this occasion, so it needs at least 2 seats. "
        "Cancel or move registrations first."
    ]
    occasion.refresh_from_db()
    assert occasion.capacity == 2

    # The same rule holds in the event's occasion rows.
    url = reverse("admin:events_event_change", args=[event.pk])
    data = form_data(organizer_client.get(url), "event_form")
    data["occasions-0-capacity"] = ["0"]
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    occasion_formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "occasions"
    )
    assert "capacity" in occasion_formset.forms[0].errors
    occasion.refresh_from_db()
    assert occasion.capacity == 2


def test_more_seats_saved_on_the_event_promote_the_waiting_list(organizer_client, member, other_member):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)

    url = reverse("admin:events_event_change", args=[event.pk])
    data = form_data(organizer_client.get(url), "event_form")
    data["occasions-0-capacity"] = ["2"]
    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED


def test_day_parts_saved_on_the_occasion_refresh_the_event_dates(organizer_client):
    event = factories.event()
    occasion = event.occasions.get()
    part = occasion.day_parts.get()
    later = part.starts_at + dt.timedelta(days=3)

    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = form_data(organizer_client.get(url), "occasion_form")
    data["day_parts-0-starts_at_0"] = [f"{later.astimezone():%Y-%m-%d}"]
    data["day_parts-0-ends_at_0"] = [f"{later.astimezone():%Y-%m-%d}"]
    response = organizer_client.post(url, data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == later


def test_an_event_is_added_with_its_occasion_and_document(organizer_client, organizer):
    url = reverse("admin:events_event_add")
    data = form_data(organizer_client.get(url), "event_form")
    theme = factories.theme()
    data.update(
        {
            "title": ["Cycling cities"],
            "slug": ["cycling-cities"],
            "main_theme": [str(theme.pk)],
            "summary": ["How cities build for bikes."],
            "format": ["online"],
            "language": ["en"],
            "audience": ["transport_planner", "manager"],
            "registration_opens_at_0": ["2030-01-01"],
            "registration_opens_at_1": ["09:00:00"],
            "registration_closes_at_0": ["2030-02-01"],
            "registration_closes_at_1": ["09:00:00"],
            # Not on the add form: a posted status is ignored, a new event is a draft.
            "status": ["published"],
            "occasions-TOTAL_FORMS": ["1"],
            "occasions-0-label": ["Online"],
            "occasions-0-capacity": ["40"],
            "documents-TOTAL_FORMS": ["1"],
            "documents-0-title": ["Invitation"],
            "documents-0-url": ["https://example.org/invitation.pdf"],
        }
    )
    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(slug="cycling-cities")
    assert sorted(event.audience) == ["manager", "transport_planner"]
    assert (event.status, event.published_at) == (Event.Status.DRAFT, None)
    assert event.occasions.get().capacity == 40
    assert event.documents.get().title == "Invitation"


# --- event actions ---------------------------------------------------------------------------


def test_publish_and_cancel_event_actions_change_the_status_and_log_it(organizer_client, organizer):
    event = factories.event(status=Event.Status.DRAFT)
    assert event.published_at is None

    run_action(organizer_client, events_url(), "publish", [event])
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert event.published_at is not None

    run_action(organizer_client, events_url(), "cancel_event", [event], apply="1")
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert admin_log(event, organizer).count() == 2


def test_duplicate_creates_a_draft_with_shifted_occasions_and_the_same_agenda(
    organizer_client, organizer, member
):
    event = factories.event(capacities=(10, 12), half_days=2)
    event.themes.add(factories.theme("cycling", "Cycling"))
    event.contacts.add(ContactPerson.objects.create(name="Karen Holm", email="kh@kl.dk"))
    talk = AgendaItem.objects.create(
        event=event,
        day_part=1,
        starts=dt.time(13),
        ends=dt.time(14),
        title="Welcome",
        kind=AgendaItem.Kind.ORGANIZER_TALK,
    )
    talk.speakers.add(Speaker.objects.create(name="Maria Ek", organization="KL"))
    Document.objects.create(event=event, title="Slides", url="https://example.org/slides.pdf")
    registrations.register(member, event.occasions.first())

    page = run_action(organizer_client, events_url(), "duplicate", [event])
    assert page.templates[0].name == "admin/events/event/duplicate.html"
    assert page.context["form"]["days"].value() == 28

    done = run_action(organizer_client, events_url(), "duplicate", [event], days="28", apply="1")

    copy = Event.objects.exclude(pk=event.pk).get()

    def later(moment):
        return timezone.localtime(moment) + dt.timedelta(days=28)

    assert copy.status == Event.Status.DRAFT
    assert copy.published_at is None
    assert copy.title == f"{event.title} (copy)"
    assert copy.slug != event.slug
    assert copy.starts_at == later(event.starts_at)
    assert copy.registration_closes_at == later(event.registration_closes_at)
    assert [o.capacity for o in copy.occasions.order_by("starts_at")] == [10, 12]
    original_parts = DayPart.objects.filter(occasion__event=event).order_by("starts_at")
    copied_parts = DayPart.objects.filter(occasion__event=copy).order_by("starts_at")
    assert [(p.number, later(p.starts_at), later(p.ends_at)) for p in original_parts] == [
        (p.number, p.starts_at, p.ends_at) for p in copied_parts
    ]
    copied_talk = copy.agenda_items.get()
    assert (copied_talk.title, copied_talk.starts, copied_talk.ends) == ("Welcome", dt.time(13), dt.time(14))
    assert [s.name for s in copied_talk.speakers.all()] == ["Maria Ek"]
    assert set(copy.themes.all()) == set(event.themes.all())
    assert set(copy.contacts.all()) == set(event.contacts.all())
    assert not copy.registrations.exists()
    assert not copy.documents.exists()
    assert admin_log(copy, organizer, ADDITION).exists()

    assert any("Created the draft" in text for _, text in messages_of(done))

    # A second copy of the same meeting gets its own address.
    run_action(organizer_client, events_url(), "duplicate", [event], days="28", apply="1")
    assert Event.objects.values("slug").distinct().count() == 3


def test_duplicate_keeps_the_local_time_across_summer_time(organizer_client):
    event = factories.event()
    part = DayPart.objects.get(occasion__event=event)
    # Copenhagen moves to summer time on the last Sunday of March.
    winter = dt.datetime(timezone.now().year + 2, 3, 10, 13, tzinfo=zoneinfo.ZoneInfo("Europe/Copenhagen"))
    part.starts_at, part.ends_at = winter, winter + dt.timedelta(hours=3)
    part.save()
    lifecycle.refresh_schedule(event)

    run_action(organizer_client, events_url(), "duplicate", [event], days="28", apply="1")

    copied = DayPart.objects.exclude(occasion__event=event).get()
    local = copied.starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Copenhagen"))
    assert (local.date(), local.hour) == (winter.date() + dt.timedelta(days=28), 13)
