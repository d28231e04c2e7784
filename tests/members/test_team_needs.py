"""Participants' needs (special-category data) stay with the event's own team, on every page and
export, even when the event's visibility is widened."""

import io

import openpyxl
import pytest
from django.db.models import Q
from django.urls import reverse

from events.admin_scoping import may_see_needs
from events.admin_views import participant_list
from events.models import Event, Registration
from tests.members.teams import csv_rows, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")

NEEDS_A = ("Vegetarian, no nuts", "Wheelchair access")
NEEDS_B = ("Halal", "Hearing loop")


# --- needs: special-category data --------------------------------------------------------------


def test_may_see_needs_is_the_events_own_team(organizer, organizer_b, superuser, member, world):
    event_a, event_b = world["event_a"], world["event_b"]
    assert may_see_needs(organizer, event_a) and not may_see_needs(organizer, event_b)
    assert may_see_needs(organizer_b, event_b) and not may_see_needs(organizer_b, event_a)
    assert not may_see_needs(member, event_a)
    Event.objects.filter(pk=event_a.pk).update(team=None)
    event_a.refresh_from_db()
    assert not may_see_needs(organizer, event_a) and may_see_needs(superuser, event_a)


def test_the_team_sees_its_participants_needs_everywhere(client, organizer, world):
    event_a, registration_a = world["event_a"], world["registration_a"]
    client.force_login(organizer)

    change = client.get(reverse("admin:events_registration_change", args=[registration_a.pk]))
    assert {"diet", "accessibility"} <= set(change.context["adminform"].form.fields)
    participants = client.get(reverse("admin:events_event_participants", args=[event_a.pk])).text
    assert NEEDS_A[0] in participants and "special-category" in participants
    rows = csv_rows(client.get(reverse("admin:events_event_participants_csv", args=[event_a.pk])))
    assert rows[1][-2:] == list(NEEDS_A)


@pytest.fixture
def visibility_widened(monkeypatch):
    """As if a future change let every organizer see every event: the needs must stay with the
    team all the same, because may_see_needs asks on its own."""
    monkeypatch.setattr("events.admin_scoping.team_visibility", lambda user, path="team": Q())


def test_needs_stay_with_the_team_when_visibility_is_widened(client, organizer_b, world, visibility_widened):
    event_a, registration_a = world["event_a"], world["registration_a"]
    client.force_login(organizer_b)

    change = client.get(reverse("admin:events_registration_change", args=[registration_a.pk]))
    assert change.status_code == 200  # visible now ...
    assert {"diet", "accessibility"}.isdisjoint(change.context["adminform"].form.fields)  # ... not the needs
    pages = [
        change.text,
        client.get(reverse("admin:events_event_participants", args=[event_a.pk])).text,
        client.get(reverse("admin:events_event_participants_csv", args=[event_a.pk])).content.decode(),
        run_action(client, "registration", "export_csv", [registration_a]).content.decode(),
        run_action(client, "registration", "print_participant_list", [registration_a]).text,
    ]
    for page in pages:
        assert registration_a.user.email in page or registration_a.user.full_name in page
        assert NEEDS_A[0] not in page and NEEDS_A[1] not in page
        assert "Dietary needs" not in page

    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("admin:events_event_participants_xlsx", args=[event_a.pk])).content)
    )
    cells = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert NEEDS_A[0] not in cells and workbook.sheetnames == ["Participants"]

    # Saving the registration form keeps the needs the team recorded.
    form = change.context["adminform"].form
    client.post(change.request["PATH_INFO"], {"listed": "on" if form.initial.get("listed") else ""})
    registration_a.refresh_from_db()
    assert (registration_a.diet, registration_a.accessibility) == NEEDS_A


def test_a_superusers_mixed_export_marks_the_needs(client, superuser, world):
    client.force_login(superuser)
    both = [world["registration_a"], world["registration_b"]]

    rows = csv_rows(run_action(client, "registration", "export_csv", both))
    assert rows[0][-2:] == [
        "Dietary needs (special-category data)",
        "Accessibility needs (special-category data)",
    ]
    assert sorted(tuple(row[-2:]) for row in rows[1:]) == sorted([NEEDS_A, NEEDS_B])

    workbook = openpyxl.load_workbook(
        io.BytesIO(run_action(client, "registration", "export_xlsx", both).content)
    )
    assert workbook.sheetnames == ["Participants", "Data protection"]
    assert "special-category personal data" in workbook["Data protection"]["A1"].value
    assert workbook["Participants"]["G1"].value == "Dietary needs (special-category data)"


def test_a_mixed_list_shows_needs_only_for_the_teams_rows(rf, organizer, world):
    """Should a list ever hold several teams' registrations, each row keeps to its own team."""
    from events.admin_registrations import RegistrationAdmin
    from network_portal.admin_site import PortalAdminSite

    request = rf.get("/")
    request.user = organizer
    model_admin = RegistrationAdmin(Registration, PortalAdminSite())
    response = participant_list(request, model_admin, Registration.objects.all(), title="All").render()
    html = response.content.decode()
    assert NEEDS_A[0] in html and NEEDS_B[0] not in html
    assert html.count("(not shown)") == 2
