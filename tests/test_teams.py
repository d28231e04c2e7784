"""Organizer teams: an organizer sees and changes only their teams' events, with everything
that hangs on them (occasions, programme, registrations, participant lists, exports, outbox
messages); a superuser sees all; participants' needs stay with the event's own team."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse

from events.admin_scoping import may_see_needs
from events.admin_views import participant_list
from events.models import Event, Occasion, Registration, Series
from events.services import registrations
from mail.models import OutgoingMessage
from members.models import Team, User
from members.services import ensure_organizer_group
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")

CONFIRMED = Registration.Status.CONFIRMED
NEEDS_A = ("Vegetarian, no nuts", "Wheelchair access")
NEEDS_B = ("Halal", "Hearing loop")


@pytest.fixture
def team_a(organizer) -> Team:
    return factories.organizer_team()  # the organizer fixture's team


@pytest.fixture
def team_b(db) -> Team:
    return factories.organizer_team("County boards")


@pytest.fixture
def organizer_b(team_b, reference_organizations) -> User:
    """A county-board organizer with exactly the permissions of the Organizers group."""
    from members.models import Organization

    skane = Organization.objects.get(country="SE", kind="county_board", official_code="12")
    user = make_member("organizer@lansstyrelsen.se", skane, full_name="Maria Ek")
    user.is_staff = True
    user.save()
    user.groups.add(ensure_organizer_group())
    team_b.members.add(user)
    return user


@pytest.fixture
def world(team_a, team_b, member, other_member):
    """One event per team, in a series of the same team, each with a registration with needs."""
    series_a = Series.objects.create(title="KL network", slug="kl-network", team=team_a)
    series_b = Series.objects.create(title="Climate-smart plans", slug="climate-smart", team=team_b)
    event_a = factories.event(title="Charging meeting", team=team_a)
    event_b = factories.event(title="County workshop", team=team_b, capacities=(5, 5))
    Event.objects.filter(pk=event_a.pk).update(series=series_a)
    Event.objects.filter(pk=event_b.pk).update(series=series_b)
    registration_a = registrations.register(
        member, event_a.occasions.get(), diet=NEEDS_A[0], accessibility=NEEDS_A[1]
    )
    registration_b = registrations.register(
        other_member, event_b.occasions.first(), diet=NEEDS_B[0], accessibility=NEEDS_B[1]
    )
    return {
        "series_a": series_a,
        "series_b": series_b,
        "event_a": event_a,
        "event_b": event_b,
        "registration_a": registration_a,
        "registration_b": registration_b,
    }


def _changelist(client, model: str, **query):
    response = client.get(reverse(f"admin:events_{model}_changelist"), query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def _act(client, model: str, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(reverse(f"admin:events_{model}_changelist"), data)


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- what an organizer sees ------------------------------------------------------------------


def test_changelists_hold_only_the_organizers_teams_rows(client, organizer, organizer_b, world):
    client.force_login(organizer)
    assert _changelist(client, "event") == {world["event_a"]}
    assert _changelist(client, "series") == {world["series_a"]}
    assert _changelist(client, "occasion") == set(world["event_a"].occasions.all())
    assert _changelist(client, "registration") == {world["registration_a"]}

    client.force_login(organizer_b)
    assert _changelist(client, "event") == {world["event_b"]}
    assert _changelist(client, "series") == {world["series_b"]}
    assert _changelist(client, "occasion") == set(world["event_b"].occasions.all())
    assert _changelist(client, "registration") == {world["registration_b"]}


def test_a_superuser_sees_every_team(client, superuser, world):
    client.force_login(superuser)
    assert _changelist(client, "event") == {world["event_a"], world["event_b"]}
    assert _changelist(client, "series") == {world["series_a"], world["series_b"]}
    assert _changelist(client, "occasion") == set(Occasion.objects.all())
    assert _changelist(client, "registration") == {world["registration_a"], world["registration_b"]}
    assert may_see_needs(superuser, world["event_a"]) and may_see_needs(superuser, world["event_b"])


def test_an_event_without_a_team_is_the_superusers_alone(client, organizer, superuser, world):
    orphan = factories.event(title="Orphan")
    Event.objects.filter(pk=orphan.pk).update(team=None)
    client.force_login(organizer)
    assert orphan not in _changelist(client, "event")
    client.force_login(superuser)
    assert orphan in _changelist(client, "event")


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

    _act(client, "registration", "cancel_registrations", [registration_a, registration_b])
    _act(client, "registration", "mark_attended", [registration_b])

    registration_a.refresh_from_db()
    registration_b.refresh_from_db()
    assert registration_a.status == Registration.Status.CANCELLED
    assert registration_b.status == CONFIRMED and registration_b.attended is None
    assert not registration_b.log.filter(actor=organizer).exists()


def test_exports_of_a_selection_hold_only_the_teams_registrations(client, organizer, world):
    client.force_login(organizer)
    registration_a, registration_b = world["registration_a"], world["registration_b"]

    rows = _csv_rows(_act(client, "registration", "export_csv", [registration_a, registration_b]))
    assert [row[3] for row in rows[1:]] == [registration_a.user.email]

    sheet = openpyxl.load_workbook(
        io.BytesIO(_act(client, "registration", "export_xlsx", [registration_b, registration_a]).content)
    ).active
    assert [row[3].value for row in sheet.iter_rows(min_row=2)] == [registration_a.user.email]

    printed = _act(client, "registration", "print_participant_list", [registration_a, registration_b])
    assert registration_b.user.full_name not in printed.text

    # Only the other team's ids: an empty export.
    rows = _csv_rows(_act(client, "registration", "export_csv", [registration_b]))
    assert rows == [rows[0]] and "Email" in rows[0]


def test_event_actions_leave_another_teams_events_alone(client, organizer, world):
    event_b = world["event_b"]
    client.force_login(organizer)

    _act(client, "event", "cancel_event", [event_b])
    _act(client, "event", "duplicate", [event_b], days="7", apply="1")
    _act(
        client, "event", "write_to_participants", [event_b], subject="Hi", body="Hello", nonce="x", apply="1"
    )

    event_b.refresh_from_db()
    assert event_b.status == Event.Status.PUBLISHED
    assert not Event.objects.filter(title__startswith="County workshop (copy)").exists()
    assert not OutgoingMessage.objects.filter(kind="organizer_message").exists()


# --- choices in forms and filters ----------------------------------------------------------------


def test_autocomplete_offers_only_the_teams_events(client, organizer, superuser, world):
    url = reverse("admin:autocomplete")
    query = {"app_label": "events", "model_name": "occasion", "field_name": "event", "term": ""}

    client.force_login(organizer)
    response = client.get(url, query)
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(world["event_a"].pk)]
    assert "County workshop" not in response.text
    assert client.get(url, {**query, "term": "County"}).json()["results"] == []

    client.force_login(superuser)
    ids = {result["id"] for result in client.get(url, query).json()["results"]}
    assert ids == {str(world["event_a"].pk), str(world["event_b"].pk)}


def test_an_occasion_cannot_be_added_to_another_teams_event(client, organizer, world):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:events_occasion_add"),
        {
            "event": world["event_b"].pk,
            "label": "Smuggled",
            "capacity": 5,
            "day_parts-TOTAL_FORMS": 0,
            "day_parts-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "event" in response.context["adminform"].form.errors
    assert not Occasion.objects.filter(label="Smuggled").exists()


def test_the_event_form_offers_the_organizers_teams_and_series(client, organizer, team_a, team_b, world):
    client.force_login(organizer)
    form = client.get(reverse("admin:events_event_add")).context["adminform"].form

    team_field, series_field = form.fields["team"], form.fields["series"]
    assert list(team_field.queryset) == [team_a]
    assert team_field.required
    assert form.initial.get("team", team_field.initial) == team_a.pk  # one team: it is chosen
    assert list(series_field.queryset) == [world["series_a"]]


def test_an_organizer_cannot_give_an_event_to_another_team(client, organizer, team_b, world):
    event_a = world["event_a"]
    client.force_login(organizer)
    url = reverse("admin:events_event_change", args=[event_a.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"team": team_b.pk, "series": world["series_b"].pk})

    response = client.post(url, data)

    assert response.status_code == 200
    assert {"team", "series"} <= set(response.context["adminform"].form.errors)
    event_a.refresh_from_db()
    assert event_a.team.name == factories.DEFAULT_TEAM


def test_the_series_form_offers_only_the_organizers_teams(client, organizer, team_a):
    client.force_login(organizer)
    form = client.get(reverse("admin:events_series_add")).context["adminform"].form
    assert list(form.fields["team"].queryset) == [team_a] and form.fields["team"].required


def test_a_superuser_may_leave_the_team_empty_and_choose_any(client, superuser, team_a, team_b):
    client.force_login(superuser)
    field = client.get(reverse("admin:events_event_add")).context["adminform"].form.fields["team"]
    assert set(field.queryset) == {team_a, team_b} and not field.required


def test_list_filters_offer_only_visible_events_series_and_occasions(
    client, organizer, colleague, team_a, world
):
    # A filter with a single choice is not shown at all: give team A a second event.
    second = factories.event(title="Second meeting", team=team_a)
    registrations.register(colleague, second.occasions.get())
    client.force_login(organizer)

    def choices(model, title):
        response = client.get(reverse(f"admin:events_{model}_changelist"))
        spec = next(spec for spec in response.context["cl"].filter_specs if str(spec.title) == title)
        return [str(label) for _value, label in spec.lookup_choices]

    assert choices("registration", "event") == ["Charging meeting", "Second meeting"]
    assert choices("registration", "occasion") == [
        str(occasion) for occasion in Occasion.objects.filter(event__team=team_a).order_by("event__title")
    ]
    assert choices("occasion", "event") == ["Charging meeting", "Second meeting"]
    assert choices("event", "series") == ["KL network"]

    # The occasion filter narrowed to another team's event shows none of its occasions.
    response = client.get(
        reverse("admin:events_registration_changelist"), {"event__id__exact": world["event_b"].pk}
    )
    # Neither the filters (the occasion filter lists none of its occasions) nor the list name it.
    assert "County workshop" not in response.text
    assert list(response.context["cl"].result_list) == []


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
    rows = _csv_rows(client.get(reverse("admin:events_event_participants_csv", args=[event_a.pk])))
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
        _act(client, "registration", "export_csv", [registration_a]).content.decode(),
        _act(client, "registration", "print_participant_list", [registration_a]).text,
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

    rows = _csv_rows(_act(client, "registration", "export_csv", both))
    assert rows[0][-2:] == [
        "Dietary needs (special-category data)",
        "Accessibility needs (special-category data)",
    ]
    assert sorted(tuple(row[-2:]) for row in rows[1:]) == sorted([NEEDS_A, NEEDS_B])

    workbook = openpyxl.load_workbook(io.BytesIO(_act(client, "registration", "export_xlsx", both).content))
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


# --- the outbox and the team admin ---------------------------------------------------------------


def test_messages_about_an_event_belong_to_its_team(world, team_a, team_b):
    messages = OutgoingMessage.objects.filter(kind="registration_confirmed")
    assert {(m.recipient, m.team) for m in messages} == {
        (world["registration_a"].user.email, team_a),
        (world["registration_b"].user.email, team_b),
    }


def test_organizers_see_their_own_teams_but_cannot_change_membership(client, organizer_b, team_a, team_b):
    client.force_login(organizer_b)
    changelist = client.get(reverse("admin:members_team_changelist"))
    assert list(changelist.context["cl"].result_list) == [team_b]

    change_url = reverse("admin:members_team_change", args=[team_b.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="members"' not in page.text  # read-only
    assert client.post(change_url, {"name": "Mine", "members": [organizer_b.pk]}).status_code == 403
    assert client.get(reverse("admin:members_team_change", args=[team_a.pk])).status_code == 302
    assert client.get(reverse("admin:members_team_add")).status_code == 403
    assert not organizer_b.has_perm("members.change_team")


def test_even_an_organizer_given_every_team_permission_cannot_join_a_team(client, organizer, team_b):
    organizer.user_permissions.add(*Permission.objects.filter(codename__endswith="_team"))
    client.force_login(organizer)
    response = client.post(
        reverse("admin:members_team_add"), {"name": "Everything", "members": [organizer.pk]}
    )
    assert response.status_code == 403
    url = reverse("admin:members_team_change", args=[team_b.pk])
    client.post(url, {"name": team_b.name, "members": [organizer.pk]})
    assert not team_b.members.filter(pk=organizer.pk).exists()


def test_a_superuser_forms_teams(client, superuser, organizer, organizer_b):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:members_team_add"), {"name": "Joint", "members": [organizer.pk, organizer_b.pk]}
    )
    assert response.status_code == 302
    assert set(Team.objects.get(name="Joint").members.all()) == {organizer, organizer_b}


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_organizers_see_only_their_teams_events(client):
    call_command("seed_demo", stdout=io.StringIO())
    danish = {"netvaerksmode-ladeinfrastruktur", "netvaerksmode-cykelinfrastruktur"}
    swedish = {"workshop-klimatsmarta-lanstransportplaner"}

    for email, slugs in (("organizer@kl.dk", danish), ("organizer@lansstyrelsen.se", swedish)):
        user = User.objects.get(email=email)
        assert not user.is_superuser
        client.force_login(user)
        assert {event.slug for event in _changelist(client, "event")} == slugs
        assert {r.event.slug for r in _changelist(client, "registration")} <= slugs

    admin = User.objects.get(email="admin@kl.dk")
    assert admin.is_superuser
    assert set(Event.objects.visible_to(admin).values_list("slug", flat=True)) == danish | swedish
