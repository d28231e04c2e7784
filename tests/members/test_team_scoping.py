"""Organizer teams: an organizer sees and changes only their teams' events, with everything that
hangs on them (occasions, programme, registrations, exports, outbox messages); a superuser sees
all; another team's ids in a request change nothing."""

import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from events.admin_scoping import may_see_needs
from events.models import Event, Occasion, Registration
from mail.models import OutgoingMessage
from members.models import User
from tests import factories
from tests.members.teams import changelist_rows, csv_rows, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")

CONFIRMED = Registration.Status.CONFIRMED


# --- what an organizer sees ------------------------------------------------------------------


def test_changelists_hold_only_the_organizers_teams_rows(client, organizer, organizer_b, world):
    client.force_login(organizer)
    assert changelist_rows(client, "event") == {world["event_a"]}
    assert changelist_rows(client, "series") == {world["series_a"]}
    assert changelist_rows(client, "occasion") == set(world["event_a"].occasions.all())
    assert changelist_rows(client, "registration") == {world["registration_a"]}

    client.force_login(organizer_b)
    assert changelist_rows(client, "event") == {world["event_b"]}
    assert changelist_rows(client, "series") == {world["series_b"]}
    assert changelist_rows(client, "occasion") == set(world["event_b"].occasions.all())
    assert changelist_rows(client, "registration") == {world["registration_b"]}


def test_a_superuser_sees_every_team(client, superuser, world):
    client.force_login(superuser)
    assert changelist_rows(client, "event") == {world["event_a"], world["event_b"]}
    assert changelist_rows(client, "series") == {world["series_a"], world["series_b"]}
    assert changelist_rows(client, "occasion") == set(Occasion.objects.all())
    assert changelist_rows(client, "registration") == {world["registration_a"], world["registration_b"]}
    assert may_see_needs(superuser, world["event_a"]) and may_see_needs(superuser, world["event_b"])


def test_an_event_without_a_team_is_the_superusers_alone(client, organizer, superuser, world):
    orphan = factories.event(title="Orphan")
    Event.objects.filter(pk=orphan.pk).update(team=None)
    client.force_login(organizer)
    assert orphan not in changelist_rows(client, "event")
    client.force_login(superuser)
    assert orphan in changelist_rows(client, "event")


@pytest.mark.parametrize(
    "name, target",
    [
        ("admin:events_event_change", "event_b"),
        ("admin:events_series_change", "series_b"),
        ("admin:events_occasion_change", "occasion_b"),
        ("admin:events_registration_change", "registration_b"),
    ],
)
def test_another_teams_change_form_is_not_found(client, organizer, world, name, target):
    objects = {**world, "occasion_b": world["event_b"].occasions.first()}
    client.force_login(organizer)
    url = reverse(name, args=[objects[target].pk])

    response = client.get(url)
    # Django's admin answers an object outside get_queryset with a redirect to the index.
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    # Nor can it be changed by posting to it.
    assert client.post(url, {"title": "Taken over", "label": "Taken over"}).status_code == 302
    world["event_b"].refresh_from_db()
    assert world["event_b"].title == "County workshop"


@pytest.mark.parametrize(
    "name",
    [
        "admin:events_event_occupancy",
        "admin:events_event_participants",
        "admin:events_event_participants_csv",
        "admin:events_event_participants_xlsx",
    ],
)
def test_another_teams_event_pages_are_not_found(client, organizer, organizer_b, world, name):
    client.force_login(organizer)
    response = client.get(reverse(name, args=[world["event_b"].pk]))
    assert response.status_code == 404
    assert world["registration_b"].user.email.encode() not in response.content

    client.force_login(organizer_b)
    assert client.get(reverse(name, args=[world["event_b"].pk])).status_code == 200


# --- actions with another team's ids -----------------------------------------------------------


def test_registration_actions_leave_another_teams_registrations_alone(client, organizer, world):
    """Django filters the posted ids through get_queryset, so a hand-made POST with another
    team's ids changes nothing of theirs."""
    registration_a, registration_b = world["registration_a"], world["registration_b"]
    client.force_login(organizer)

    run_action(client, "registration", "cancel_registrations", [registration_a, registration_b])
    run_action(client, "registration", "mark_attended", [registration_b])

    registration_a.refresh_from_db()
    registration_b.refresh_from_db()
    assert registration_a.status == Registration.Status.CANCELLED
    assert registration_b.status == CONFIRMED and registration_b.attended is None
    assert not registration_b.log.filter(actor=organizer).exists()


def test_exports_of_a_selection_hold_only_the_teams_registrations(client, organizer, world):
    client.force_login(organizer)
    registration_a, registration_b = world["registration_a"], world["registration_b"]

    rows = csv_rows(run_action(client, "registration", "export_csv", [registration_a, registration_b]))
    assert [row[3] for row in rows[1:]] == [registration_a.user.email]

    sheet = openpyxl.load_workbook(
        io.BytesIO(
            run_action(client, "registration", "export_xlsx", [registration_b, registration_a]).content
        )
    ).active
    assert [row[3].value for row in sheet.iter_rows(min_row=2)] == [registration_a.user.email]

    printed = run_action(client, "registration", "print_participant_list", [registration_a, registration_b])
    assert registration_b.user.full_name not in printed.text

    # Only the other team's ids: an empty export.
    rows = csv_rows(run_action(client, "registration", "export_csv", [registration_b]))
    assert rows == [rows[0]] and "Email" in rows[0]


def test_event_actions_leave_another_teams_events_alone(client, organizer, world):
    event_b = world["event_b"]
    client.force_login(organizer)

    run_action(client, "event", "cancel_event", [event_b], apply="1")
    run_action(client, "event", "duplicate", [event_b], days="7", apply="1")
    run_action(
        client, "event", "write_to_participants", [event_b], subject="Hi", body="Hello", nonce="x", apply="1"
    )

    event_b.refresh_from_db()
    assert event_b.status == Event.Status.PUBLISHED
    assert not Event.objects.filter(title__startswith="County workshop (copy)").exists()
    assert not OutgoingMessage.objects.filter(kind="organizer_message").exists()


# --- the outbox and the team admin ---------------------------------------------------------------


def test_messages_about_an_event_belong_to_its_team(world, team_a, team_b):
    messages = OutgoingMessage.objects.filter(kind="registration_confirmed")
    assert {(m.recipient, m.team) for m in messages} == {
        (world["registration_a"].user.email, team_a),
        (world["registration_b"].user.email, team_b),
    }


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_organizers_see_only_their_teams_events(client):
    call_command("seed_demo", stdout=io.StringIO())
    danish = {"netvaerksmode-ladeinfrastruktur", "netvaerksmode-cykelinfrastruktur"}
    swedish = {"workshop-klimatsmarta-lanstransportplaner"}

    for email, slugs in (("organizer@kl.dk", danish), ("organizer@lansstyrelsen.se", swedish)):
        user = User.objects.get(email=email)
        assert not user.is_superuser
        client.force_login(user)
        assert {event.slug for event in changelist_rows(client, "event")} == slugs
        assert {r.event.slug for r in changelist_rows(client, "registration")} <= slugs

    admin = User.objects.get(email="admin@kl.dk")
    assert admin.is_superuser
    assert set(Event.objects.visible_to(admin).values_list("slug", flat=True)) == danish | swedish
