"""`members` knows nothing of events or newsletters: what they need from it (organizers'
permissions, a profile panel, paths open before the profile is complete, a count in the teams'
admin list, demo data) they register in their AppConfig.ready() (members.registry). These tests
prove the registrations arrive where members used to name the apps."""

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal
from django.urls import reverse

from members import registry
from members import services as member_services
from tests import factories
from tests.conftest import make_member


def _codenames(group: Group) -> set[str]:
    permissions = group.permissions.select_related("content_type")
    return {f"{permission.content_type.app_label}.{permission.codename}" for permission in permissions}


@pytest.mark.django_db
def test_the_organizer_group_gets_what_each_app_registered():
    permissions = _codenames(member_services.ensure_organizer_group())
    assert {
        "events.change_event",
        "events.delete_occasion",
        "newsletters.add_edition",
        "newsletters.change_subscriber",
        "outbox.view_outgoingmessage",
        "outbox.change_outgoingmessage",
        "members.change_user",
        "members.view_team",
    } <= permissions
    # Only what was registered: no deleting accounts or messages, no granting permissions.
    assert not {"members.delete_user", "members.change_team", "outbox.delete_outgoingmessage"} & permissions
    assert not any(permission.startswith("auth.") for permission in permissions)


@pytest.mark.django_db
def test_migrate_brings_the_organizer_group_in_step_once_after_the_last_app(monkeypatch):
    Group.objects.filter(name=member_services.ORGANIZER_GROUP).delete()
    calls = []
    original = member_services.ensure_organizer_group

    def counted():
        calls.append(1)
        return original()

    monkeypatch.setattr(member_services, "ensure_organizer_group", counted)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert len(calls) == 1
    group = Group.objects.get(name=member_services.ORGANIZER_GROUP)
    expected = {"events.change_event", "newsletters.add_edition", "outbox.view_outgoingmessage"}
    assert expected <= _codenames(group)


def test_the_profile_shows_the_newsletter_panel_before_the_members_data_rights(client, member):
    client.force_login(member)
    page = client.get(reverse("members:profile")).text
    assert reverse("newsletters:subscribe_member") in page
    assert page.index('id="newsletter-heading"') < page.index('id="your-data"')


def test_newsletter_links_work_before_the_profile_is_complete_and_other_pages_wait(client, db):
    incomplete = make_member("new@example.org")
    client.force_login(incomplete)
    # A link from a newsletter acts for its subscriber, whoever is signed in.
    response = client.get(reverse("newsletters:preferences", args=["not-a-valid-token"]))
    assert not (response.status_code == 302 and response.url.startswith(reverse("members:edit")))
    response = client.get(reverse("events:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("members:edit"))


def test_the_teams_admin_list_counts_the_events_each_team_runs(client, superuser):
    team = factories.organizer_team("Charging team")
    factories.event(team=team)
    factories.event(team=team)
    client.force_login(superuser)
    page = client.get(reverse("admin:members_team_changelist")).text
    assert "column-events_count" in page
    assert '<td class="field-events_count">2</td>' in page


def test_demo_data_comes_from_the_apps_in_their_order():
    assert [seeder.name for seeder in registry.demo_seeders()] == ["events", "newsletter"]
