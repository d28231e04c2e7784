"""Validation in words: every database constraint and every plausibility rule of an event, its
occasions, day parts and programme is refused with a message next to the field, and nothing
is saved; no constraint name ever reaches a page."""

import datetime as dt
import zoneinfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import BaseConstraint, CheckConstraint, UniqueConstraint
from django.urls import reverse
from django.utils import timezone

from events.models import AgendaItem, DayPart, Event, Occasion
from tests import factories
from tests.admin_forms import form_data

pytestmark = pytest.mark.usefixtures("reference_organizations")

COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
PROJECT_APPS = ("members", "events", "newsletters", "outbox")
# Not among the files of this change: a delivery row is written by the sending service only,
# never through a form. Reported to the lead (notes/plausibility.md).
WITHOUT_OWN_MESSAGE_YET = {"delivery_once_per_edition_and_subscriber"}


def event_url(event) -> str:
    return reverse("admin:events_event_change", args=[event.pk])


def post_event_page(client, event, **changes):
    data = form_data(client.get(event_url(event)), "event_form")
    for name, value in changes.items():
        data[name] = [str(value)]
    return client.post(event_url(event), data)


def event_errors(response) -> dict:
    assert response.status_code == 200, "the form was saved"
    return response.context["adminform"].form.errors


def inline_formset(response, prefix: str):
    return next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    )


def meeting(**kwargs) -> Event:
    """A one-occasion meeting from 15:00 to 16:00 Copenhagen time, a month from now."""
    event = factories.event(**kwargs)
    part = DayPart.objects.get(occasion__event=event)
    day = timezone.localtime(part.starts_at, COPENHAGEN).date()
    part.starts_at = dt.datetime.combine(day, dt.time(15), tzinfo=COPENHAGEN)
    part.ends_at = dt.datetime.combine(day, dt.time(16), tzinfo=COPENHAGEN)
    part.save()
    return event


# --- constraints ------------------------------------------------------------------------------


def test_every_constraint_has_a_message_of_its_own():
    constraints = [
        constraint
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        for constraint in model._meta.constraints
    ]
    assert constraints
    for constraint in constraints:
        if constraint.name in WITHOUT_OWN_MESSAGE_YET:
            continue
        assert isinstance(constraint, CheckConstraint | UniqueConstraint)
        assert constraint.violation_error_message not in (
            None,
            BaseConstraint.default_violation_error_message,
            UniqueConstraint.default_violation_error_message,
        ), constraint.name


def test_a_constraint_name_never_reaches_the_event_page(organizer_client):
    event = factories.event()
    data = form_data(organizer_client.get(event_url(event)), "event_form")
    # Registration closes the very moment it opens.
    for part in ("0", "1"):
        data[f"registration_closes_at_{part}"] = data[f"registration_opens_at_{part}"]
    response = organizer_client.post(event_url(event), data)

    assert event_errors(response)["registration_closes_at"] == ["Registration must close after it opens."]
    page = response.content.decode()
    assert "event_registration_window_order" not in page
    assert "Constraint “" not in page and 'Constraint "' not in page
    closes = event.registration_closes_at
    event.refresh_from_db()
    assert event.registration_closes_at == closes


# --- the event's own dates and seats ---------------------------------------------------------


def test_registration_closing_after_the_event_has_ended_is_refused(organizer_client):
    event = factories.event(closes_at=timezone.now() + dt.timedelta(days=3 * 365))
    response = post_event_page(organizer_client, event)
    [message] = event_errors(response)["registration_closes_at"]
    assert message.startswith("Registration closes after the event has ended (")


def test_registration_closing_after_the_first_occasion_has_started_is_allowed(organizer_client):
    # The later occasions of a workshop still take registrations.
    event = factories.event(capacities=(10, 10))
    first, second = event.occasions.order_by("starts_at")
    closes = first.starts_at + dt.timedelta(days=1)
    Event.objects.filter(pk=event.pk).update(registration_closes_at=closes)

    response = post_event_page(organizer_client, event)

    assert response.status_code == 302
    assert closes < second.starts_at


def test_cancellation_deadline_after_the_event_has_ended_is_refused(organizer_client):
    event = factories.event(cancellation_deadline=timezone.now() + dt.timedelta(days=3 * 365))
    response = post_event_page(organizer_client, event)
    [message] = event_errors(response)["cancellation_deadline"]
    assert message.startswith("The cancellation deadline is after the event has ended (")


def test_seat_release_before_registration_opens_is_refused(organizer_client):
    now = timezone.now()
    event = factories.event(
        quota=2, opens_at=now - dt.timedelta(days=1), release_at=now - dt.timedelta(days=2)
    )
    response = post_event_page(organizer_client, event)
    [message] = event_errors(response)["quota_release_at"]
    assert message.startswith("Unused seats would be released before registration opens (")


def test_zero_seats_per_organization_is_refused(organizer_client):
    event = factories.event()
    response = post_event_page(organizer_client, event, organization_quota=0)
    assert event_errors(response)["organization_quota"] == [
        "With 0 seats per organization nobody could register. Leave it empty for no limit."
    ]
    event.refresh_from_db()
    assert event.organization_quota is None


# --- seats ----------------------------------------------------------------------------------


def test_occasion_without_seats_is_refused(organizer_client):
    event = factories.event(capacities=(10,))
    response = post_event_page(organizer_client, event, **{"occasions-0-capacity": 0})
    assert inline_formset(response, "occasions").forms[0].errors["capacity"] == [
        "An occasion needs at least one seat."
    ]
    assert event.occasions.get().capacity == 10
    with pytest.raises(ValidationError) as refused:
        Occasion(event=event, capacity=0).full_clean()
    assert refused.value.message_dict["capacity"] == ["An occasion needs at least one seat."]


def test_seats_per_organization_above_all_seats_of_the_event_is_refused(organizer_client):
    event = factories.event(capacities=(10, 5))
    response = post_event_page(organizer_client, event, organization_quota=100)
    assert event_errors(response)["organization_quota"] == [
        "100 seats per organization is more than the event has in all (15 seats on all occasions together)."
    ]
    event.refresh_from_db()
    assert event.organization_quota is None


def test_seats_lowered_below_the_seats_per_organization_in_the_same_save_are_refused(organizer_client):
    event = factories.event(capacities=(10,), quota=8)
    response = post_event_page(organizer_client, event, **{"occasions-0-capacity": 5})
    assert response.status_code == 200
    assert inline_formset(response, "occasions").non_form_errors() == [
        "8 seats per organization is more than the event has in all (5 seats on all occasions together)."
    ]
    assert event.occasions.get().capacity == 10


# --- the programme and the day parts ------------------------------------------------------------


def post_agenda_item(client, event, *, day_part=1, starts="15:00", ends="15:30"):
    data = form_data(client.get(event_url(event)), "event_form")
    data["agenda_items-TOTAL_FORMS"] = ["1"]
    data.update(
        {
            "agenda_items-0-day_part": [str(day_part)],
            "agenda_items-0-starts": [starts],
            "agenda_items-0-ends": [ends],
            "agenda_items-0-title": ["Charging in the municipality"],
            "agenda_items-0-kind": [AgendaItem.Kind.EXTERNAL_TALK],
        }
    )
    return client.post(event_url(event), data)


def agenda_errors(response) -> dict:
    assert response.status_code == 200, "the programme was saved"
    return inline_formset(response, "agenda_items").forms[0].errors


def test_programme_item_inside_its_day_part_is_saved(organizer_client):
    event = meeting()
    response = post_agenda_item(organizer_client, event, starts="15:00", ends="16:00")
    assert response.status_code == 302
    assert event.agenda_items.count() == 1


def test_programme_item_outside_its_day_part_is_refused(organizer_client):
    event = meeting()
    response = post_agenda_item(organizer_client, event, starts="21:00", ends="23:00")
    assert agenda_errors(response) == {"starts": ["Outside day part 1 (15:00–16:00)."]}

    response = post_agenda_item(organizer_client, event, starts="15:30", ends="16:30")
    assert agenda_errors(response) == {"ends": ["Outside day part 1 (15:00–16:00)."]}
    assert not event.agenda_items.exists()


def test_programme_item_on_a_day_part_that_does_not_exist_is_refused(organizer_client):
    event = meeting()
    response = post_agenda_item(organizer_client, event, day_part=3)
    assert agenda_errors(response) == {"day_part": ["There is no day part 3. This event's day parts are: 1."]}

    response = post_agenda_item(organizer_client, event, day_part=0)
    assert agenda_errors(response) == {"day_part": ["Day parts are numbered from 1."]}
    assert not event.agenda_items.exists()


def test_programme_item_ending_before_it_starts_is_refused():
    item = AgendaItem(event=factories.event(), day_part=1, starts=dt.time(16), ends=dt.time(15), title="x")
    with pytest.raises(ValidationError) as refused:
        item.full_clean(exclude=["kind"])
    assert refused.value.message_dict == {"ends": ["A programme item must end after it starts."]}


def occasion_page(client, occasion):
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    return url, form_data(client.get(url), "occasion_form")


def test_overlapping_day_parts_are_refused(organizer_client):
    occasion = meeting().occasions.get()
    url, data = occasion_page(organizer_client, occasion)
    # The empty row gets number 2 and the very times of day part 1.
    data["day_parts-1-number"] = ["2"]
    for field in ("starts_at_0", "starts_at_1", "ends_at_0", "ends_at_1"):
        data[f"day_parts-1-{field}"] = data[f"day_parts-0-{field}"]
    response = organizer_client.post(url, data)

    assert response.status_code == 200
    day_parts = inline_formset(response, "day_parts")
    assert day_parts.forms[1].errors == {"starts_at": ["Overlaps day part 1 (15:00–16:00)."]}
    assert occasion.day_parts.count() == 1


def test_day_part_numbers_start_at_one_and_are_not_repeated(organizer_client):
    occasion = meeting().occasions.get()
    url, data = occasion_page(organizer_client, occasion)
    data["day_parts-0-number"] = ["0"]
    response = organizer_client.post(url, data)
    assert inline_formset(response, "day_parts").forms[0].errors == {
        "number": ["Day parts are numbered from 1."]
    }

    url, data = occasion_page(organizer_client, occasion)
    part = occasion.day_parts.get()
    data["day_parts-1-number"] = ["1"]
    data["day_parts-1-starts_at_0"] = data["day_parts-0-starts_at_0"]
    data["day_parts-1-starts_at_1"] = ["17:00"]
    data["day_parts-1-ends_at_0"] = data["day_parts-0-ends_at_0"]
    data["day_parts-1-ends_at_1"] = ["18:00"]
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    assert inline_formset(response, "day_parts").non_form_errors() == [
        "Two day parts have the same number; number them 1, 2, 3 …"
    ]
    assert list(occasion.day_parts.all()) == [part]
    assert "daypart_unique_number" not in response.content.decode()


def test_day_part_ending_before_it_starts_is_refused():
    starts = timezone.now()
    part = DayPart(occasion=factories.event().occasions.get(), number=2, starts_at=starts, ends_at=starts)
    with pytest.raises(ValidationError) as refused:
        part.full_clean()
    assert refused.value.message_dict == {"ends_at": ["A day part must end after it starts."]}
