"""Organizer teams in forms: choices, autocomplete and list filters offer only the organizer's teams
and their events; teams and their membership are the superuser's to form."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from events.models import Occasion
from events.services import registrations
from members.models import Team
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")


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
