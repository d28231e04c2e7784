"""The organizers' admin is for staff only, its lists keep their query count whatever the number of
rows, and the change forms hold only what may change there."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.admin_registrations import OccasionFilter
from events.models import (
    Occasion,
    Registration,
)
from events.services import registrations
from tests import factories
from tests.admin_forms import form_data
from tests.conftest import make_member
from tests.events.admin_pages import events_url, make_members, registrations_url

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


# --- access and query counts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, target",
    [
        ("admin:events_registration_changelist", None),
        ("admin:events_registration_change", "registration"),
        ("admin:events_event_changelist", None),
        ("admin:events_event_change", "event"),
        ("admin:events_event_occupancy", "event"),
        ("admin:events_event_participants", "event"),
        ("admin:events_event_participants_csv", "event"),
        ("admin:events_event_participants_xlsx", "event"),
        ("admin:events_occasion_change", "occasion"),
    ],
)
def test_a_member_is_sent_to_the_admin_login(client, member, name, target):
    occasion = factories.event().occasions.get()
    registration = registrations.register(member, occasion)
    objects = {"registration": registration, "event": occasion.event, "occasion": occasion}
    url = reverse(name, args=[objects[target].pk] if target else [])
    client.force_login(member)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("action", ["cancel_registrations", "confirm_over_quota", "export_csv"])
def test_a_member_cannot_run_registration_actions(client, member, action):
    registration = registrations.register(member, factories.event().occasions.get())
    client.force_login(member)

    response = client.post(registrations_url(), {"action": action, "_selected_action": [registration.pk]})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_registration_changelist_queries_do_not_grow_with_registrations(organizer_client, aarhus, odense):
    event = factories.event(capacities=(20, 20))
    first, second = event.occasions.all()
    people = make_members(aarhus, 15, "a") + make_members(odense, 15, "o")

    for person in people[:5]:
        registrations.register(person, first)
    with CaptureQueriesContext(connection) as five:
        response = organizer_client.get(registrations_url())
    assert response.context["cl"].result_count == 5

    for index, person in enumerate(people[5:]):
        registrations.register(person, first if index % 2 else second)
    with CaptureQueriesContext(connection) as thirty:
        response = organizer_client.get(registrations_url())
    assert response.context["cl"].result_count == 30

    assert len(thirty) == len(five)


def test_event_changelist_queries_do_not_grow_with_events(organizer_client, member):
    registrations.register(member, factories.event().occasions.get())
    with CaptureQueriesContext(connection) as one:
        organizer_client.get(events_url())
    for _ in range(4):
        factories.event(capacities=(5, 5))
    with CaptureQueriesContext(connection) as five:
        response = organizer_client.get(events_url())
    assert response.context["cl"].result_count == 5
    assert len(five) == len(one)


def test_registration_form_edits_needs_but_not_the_seat(organizer_client, organizer, member):
    registration = registrations.register(member, factories.event().occasions.get())
    url = reverse("admin:events_registration_change", args=[registration.pk])

    page = organizer_client.get(url)
    data = form_data(page, "registration_form")
    assert {"status", "occasion", "user", "organization", "attended"}.isdisjoint(data)
    assert "Confirmed" in page.content.decode()  # the log, read-only
    data["diet"] = ["Vegan"]
    data["status"] = [CANCELLED]
    response = organizer_client.post(url, data)

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.diet == "Vegan"
    assert registration.status == CONFIRMED
    assert organizer_client.get(reverse("admin:events_registration_add")).status_code == 403
    assert (
        organizer_client.get(reverse("admin:events_registration_delete", args=[registration.pk])).status_code
        == 403
    )


def test_registration_filters_by_event_occasion_and_organization_kind(organizer_client, member, other_member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(member, first)
    registrations.register(other_member, second)
    registrations.register(
        make_member("x@odense.dk", other_member.organization), factories.event().occasions.get()
    )

    response = organizer_client.get(
        registrations_url(),
        {"event__id__exact": event.pk, "occasion": second.pk, "organization__kind": "municipality"},
    )

    assert [r.user for r in response.context["cl"].result_list] == [other_member]
    occasion_filter = next(
        spec for spec in response.context["cl"].filter_specs if isinstance(spec, OccasionFilter)
    )
    assert [value for value, _ in occasion_filter.lookup_choices] == [first.pk, second.pk]


def test_an_occasion_cannot_be_moved_to_another_event(organizer_client):
    """Its registrations carry the event too; the two would disagree."""
    occasion = factories.event().occasions.get()
    other_event = factories.event()
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = form_data(organizer_client.get(url), "occasion_form")
    assert "event" not in data

    organizer_client.post(url, {**data, "event": [str(other_event.pk)]})
    assert Occasion.objects.get(pk=occasion.pk).event_id == occasion.event_id


# --- found in review --------------------------------------------------------------------------


def test_a_typed_occasion_filter_is_no_500(client, organizer):
    client.force_login(organizer)
    assert client.get(reverse("admin:events_registration_changelist"), {"occasion": "abc"}).status_code == 200


def test_status_changes_only_through_the_actions(client, organizer):
    event = factories.event()
    client.force_login(organizer)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).text
    assert 'name="status"' not in page


def test_an_event_with_registrations_cannot_be_deleted(client, organizer, member):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    client.force_login(organizer)
    assert client.get(reverse("admin:events_event_delete", args=[event.pk])).status_code == 403
    changelist = client.get(reverse("admin:events_event_changelist")).text
    assert 'value="delete_selected"' not in changelist
