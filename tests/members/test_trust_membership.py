"""Issue 8, holes 1, 2 and 8: coordinator rights and verified membership belong to one
organization, and admin actions obey the same rules as the user change form."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.urls import reverse

from events import permissions
from events import selectors as events_selectors
from events.models import Registration
from events.services import registrations
from members import services
from members.models import Organization, User
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")

CONFIRMED = Registration.Status.CONFIRMED
WAITLISTED = Registration.Status.WAITLISTED
UNVERIFIED = Registration.WaitReason.UNVERIFIED


def _county_board(code: str) -> Organization:
    return Organization.objects.get(country="SE", kind="county_board", official_code=code)


@pytest.fixture
def skane():
    return _county_board("12")


@pytest.fixture
def stockholm():
    return _county_board("01")


@pytest.fixture
def halland():
    return _county_board("13")


def _switch_in_profile(client, user: User, organization: Organization):
    """The member picks another organization on the profile page, as a person would."""
    client.force_login(user)
    response = client.post(
        reverse("members:edit"),
        {
            "full_name": user.full_name,
            "organization": organization.pk,
            "role": user.role,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    user.refresh_from_db()


def _admin_change_data(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "organization": user.organization_id or "",
        "role": user.role,
        "job_title": user.job_title,
        "phone": user.phone,
        "preferred_language": user.preferred_language or "en",
        "is_active": "on",
    }
    if user.is_organization_coordinator:
        data["is_organization_coordinator"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def organizers_group_organizer(organizer):
    """An organizer with exactly the permissions of the Organizers group (no superuser)."""
    organizer.user_permissions.clear()
    organizer.groups.add(services.ensure_organizer_group())
    return organizer


# --- hole 1: coordinator rights belong to one organization ------------------------------------


def test_it_drops_coordinator_rights_when_a_coordinator_switches_county_board(
    client, skane, stockholm, organizer
):
    coordinator = make_member("samordnare@lansstyrelsen.se", skane, full_name="Sara Skåne")
    coordinator.is_organization_coordinator = True
    coordinator.save()
    stockholmer = make_member("planerare@lansstyrelsen.se", stockholm, full_name="Stina Stockholm")
    assert coordinator.organization_verified and stockholmer.organization_verified
    event = factories.event()
    registration = registrations.register(stockholmer, event.occasions.get())

    _switch_in_profile(client, coordinator, stockholm)
    # Even once an organizer confirms the new membership, the coordinator flag stays behind
    # with Skåne: it was given for that organization.
    services.verify_membership(coordinator, organizer)
    coordinator.refresh_from_db()
    assert coordinator.organization == stockholm and coordinator.organization_verified
    assert not coordinator.is_organization_coordinator

    assert not permissions.may_act_for(coordinator, stockholmer, event_id=registration.event_id)
    assert events_selectors.colleagues_for(coordinator) == []
    seats_page = client.get(reverse("events:organization_seats", args=[event.slug]))
    assert seats_page.status_code == 403
    assert stockholmer.email not in seats_page.text
    cancel = client.post(reverse("events:cancel", args=[registration.pk]))
    assert cancel.status_code == 404
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_set_organization_keeps_coordinator_rights_when_the_organization_stays(member):
    member.is_organization_coordinator = True
    member.save()
    assert services.set_organization(member, member.organization) is True
    member.refresh_from_db()
    assert member.is_organization_coordinator


def test_a_new_address_that_moves_the_membership_drops_coordinator_rights(member, odense):
    member.is_organization_coordinator = True
    member.save()
    EmailAddress.objects.filter(user=member).delete()
    member.email = "planner@odense.dk"
    member.save()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    services.apply_email_domain(member)
    member.refresh_from_db()
    assert member.organization == odense and member.organization_verified
    assert not member.is_organization_coordinator


def test_an_organizers_change_of_organization_in_admin_drops_coordinator_rights(
    client, organizers_group_organizer, member, odense
):
    member.is_organization_coordinator = True
    member.save()
    client.force_login(organizers_group_organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    response = client.post(url, _admin_change_data(member, organization=odense.pk))
    assert response.status_code == 302, response.text[:3000]
    member.refresh_from_db()
    assert member.organization == odense
    assert not member.is_organization_coordinator


def test_an_organizer_may_grant_coordinator_rights_for_the_new_organization_in_the_same_save(
    client, organizers_group_organizer, member, odense
):
    client.force_login(organizers_group_organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    data = _admin_change_data(member, organization=odense.pk, is_organization_coordinator="on")
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.organization == odense and member.is_organization_coordinator


# --- hole 2: seat quotas are not taken by switching county board ------------------------------


def test_it_does_not_confirm_a_waitlisted_member_on_another_county_boards_seats_after_a_switch(
    client, skane, halland, organizer, django_capture_on_commit_callbacks
):
    event = factories.event(quota=4, capacities=(50,))
    occasion = event.occasions.get()
    for number in range(4):
        seated = make_member(f"skane{number}@lansstyrelsen.se", skane)
        assert registrations.register(seated, occasion).status == CONFIRMED
    waiting_member = make_member("femte@lansstyrelsen.se", skane, full_name="Fem Skåne")
    waiting = registrations.register(waiting_member, occasion)
    assert waiting.status == WAITLISTED and waiting.wait_reason == Registration.WaitReason.QUOTA

    _switch_in_profile(client, waiting_member, halland)
    assert waiting_member.organization == halland
    assert not waiting_member.organization_verified
    # Cancelling the Skåne place and asking again does not reach Halland's free seats.
    registrations.cancel(waiting, actor=waiting_member)
    again = registrations.register(waiting_member, occasion)
    assert again.status == WAITLISTED and again.wait_reason == UNVERIFIED
    assert again.organization == halland
    assert events_selectors.organization_seats_left(event, halland.pk) == 4

    # Once an organizer confirms the move, Halland's seats apply.
    with django_capture_on_commit_callbacks(execute=True):
        services.verify_membership(waiting_member, organizer)
    again.refresh_from_db()
    assert again.status == CONFIRMED


def test_registrations_keep_the_organization_they_were_made_for(client, skane, halland):
    first = factories.event(quota=4)
    member = make_member("planerare@lansstyrelsen.se", skane, full_name="Per Skåne")
    confirmed = registrations.register(member, first.occasions.get())
    assert confirmed.status == CONFIRMED

    _switch_in_profile(client, member, halland)
    confirmed.refresh_from_db()
    assert confirmed.status == CONFIRMED and confirmed.organization == skane
    assert events_selectors.organization_seats_left(first, skane.pk) == 3

    later = factories.event(quota=4)
    new = registrations.register(member, later.occasions.get())
    assert new.status == WAITLISTED and new.wait_reason == UNVERIFIED and new.organization == halland


def test_the_first_pick_on_a_shared_domain_is_verified_and_a_later_one_is_not(skane, halland):
    member = make_member("ny@lansstyrelsen.se")
    assert services.set_organization(member, skane) is True
    assert services.set_organization(member, halland) is False
    member.refresh_from_db()
    assert member.organization == halland and not member.organization_verified
    # Saving the profile again with the same pick does not make the domain vouch for it.
    assert services.set_organization(member, halland) is False
    # Nor does confirming the address again.
    services.apply_email_domain(member)
    member.refresh_from_db()
    assert not member.organization_verified


def test_a_change_to_the_one_organization_an_address_proves_is_verified(odense):
    member = make_member("planner@aarhus.dk", odense)
    assert not member.organization_verified
    aarhus = Organization.objects.get(country="DK", kind="municipality", official_code="751")
    assert services.set_organization(member, aarhus) is True


def test_an_organizers_change_of_organization_in_admin_is_verified_by_that_organizer(
    client, organizers_group_organizer, skane, halland
):
    member = make_member("planerare@lansstyrelsen.se", skane, full_name="Per Skåne")
    assert member.organization_verified and member.organization_verified_by is None
    client.force_login(organizers_group_organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    assert client.post(url, _admin_change_data(member, organization=halland.pk)).status_code == 302
    member.refresh_from_db()
    assert member.organization == halland
    assert member.organization_verified
    # Not "verified by email domain": the organizer who chose the organization vouches for it.
    assert member.organization_verified_by == organizers_group_organizer


def test_an_organizer_clearing_the_organization_drops_verification(
    client, organizers_group_organizer, member
):
    client.force_login(organizers_group_organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    assert client.post(url, _admin_change_data(member, organization="")).status_code == 302
    member.refresh_from_db()
    assert member.organization is None and not member.organization_verified


def test_an_admin_save_without_a_change_of_organization_keeps_the_domain_verification(
    client, organizers_group_organizer, member
):
    client.force_login(organizers_group_organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    assert client.post(url, _admin_change_data(member, job_title="Planner")).status_code == 302
    member.refresh_from_db()
    assert member.job_title == "Planner"
    assert member.organization_verified and member.organization_verified_by is None


# --- hole 8: list actions obey the change-form rules ------------------------------------------


@pytest.fixture
def verified_superuser(superuser, aarhus, organizer):
    services.set_organization(superuser, aarhus)
    services.verify_membership(superuser, organizer)
    return superuser


@pytest.fixture
def other_organizer(organizer):
    user = make_member("colleague@kl.dk", organizer.organization, full_name="Kim Organizer")
    user.is_staff = True
    user.save()
    return user


def _run_action(client, action: str, users: list[User]):
    return client.post(
        reverse("admin:members_user_changelist"),
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def test_it_does_not_revoke_verification_of_superusers_and_staff_for_an_organizer(
    client, organizers_group_organizer, verified_superuser, other_organizer, member
):
    assert other_organizer.organization_verified
    client.force_login(organizers_group_organizer)
    response = _run_action(client, "revoke_verification", [verified_superuser, other_organizer, member])
    assert response.status_code == 200
    for user in (verified_superuser, other_organizer, member):
        user.refresh_from_db()
    assert verified_superuser.organization_verified
    assert other_organizer.organization_verified
    assert not member.organization_verified
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert "2 selected accounts were not changed: you may not change them." in texts


def test_it_does_not_verify_membership_of_superusers_and_staff_for_an_organizer(
    client, organizers_group_organizer, superuser, other_organizer, unverified_member, aarhus
):
    superuser.organization = aarhus
    superuser.save()
    services.revoke_verification(other_organizer)
    client.force_login(organizers_group_organizer)
    _run_action(client, "verify_membership", [superuser, other_organizer, unverified_member])
    for user in (superuser, other_organizer, unverified_member):
        user.refresh_from_db()
    assert not superuser.organization_verified
    assert not other_organizer.organization_verified
    assert unverified_member.organization_verified


def test_a_superuser_may_use_the_actions_on_staff_accounts(client, superuser, other_organizer):
    client.force_login(superuser)
    _run_action(client, "revoke_verification", [other_organizer])
    other_organizer.refresh_from_db()
    assert not other_organizer.organization_verified


def test_the_profile_form_tells_a_county_board_member_that_a_change_waits_for_an_organizer(client, skane):
    member = make_member("planerare@lansstyrelsen.se", skane, full_name="Per Skåne")
    client.force_login(member)
    page = client.get(reverse("members:edit")).text
    assert "applies to organization seats once an organizer confirms it" in page
