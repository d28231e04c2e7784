"""Fixtures shared by the members tests."""

import pytest

from events.models import Event, Series
from events.services import registrations
from members import privacy
from members.models import Team, User
from members.services import ensure_organizer_group
from tests import factories
from tests.conftest import make_member

NEEDS_A = ("Vegetarian, no nuts", "Wheelchair access")
NEEDS_B = ("Halal", "Hearing loop")


@pytest.fixture
def extra_holder():
    """Register a holder for one test (as the newsletter and outbox apps do) and remove it."""
    registered = []

    def register(name, **kwargs):
        registered.append(name)
        privacy.register(name, **kwargs)

    saved = dict(privacy._holders)
    yield register
    privacy._holders.clear()
    privacy._holders.update(saved)


@pytest.fixture
def admin_client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- organizer teams: one event per team ------------------------------------------------------


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
