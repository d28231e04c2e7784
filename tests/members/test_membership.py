"""Organization membership is verified, not merely claimed (members.services)."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from members import services
from members.models import Organization, User
from tests.conftest import PASSWORD, make_member, sign_up_and_confirm

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _county_board(code: str) -> Organization:
    return Organization.objects.get(country="SE", kind="county_board", official_code=code)


def test_confirming_an_address_on_one_organizations_domain_sets_and_verifies_it(client, aarhus):
    user = sign_up_and_confirm(client, "new@aarhus.dk")
    assert user.organization == aarhus
    assert user.organization_verified
    assert user.organization_verified_by is None


def test_an_unverified_address_proves_nothing(aarhus):
    user = User.objects.create_user("new@aarhus.dk", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    assert not services.organizations_proven_by_email(user).exists()
    assert services.set_organization(user, aarhus) is False


def test_a_shared_domain_offers_only_its_organizations_and_the_pick_is_verified():
    user = make_member("planner@lansstyrelsen.se")
    options = services.organization_options(user)
    assert options.proven_by_domain
    assert options.organizations.count() == 21
    assert services.set_organization(user, _county_board("12")) is True
    user.refresh_from_db()
    assert user.organization.county_letter == "M"
    assert user.organization_verified


def test_confirming_a_shared_domain_address_does_not_pick_for_the_member(client):
    user = sign_up_and_confirm(client, "planner@lansstyrelsen.se")
    assert EmailAddress.objects.get(user=user).verified
    assert user.organization is None


def test_any_other_pick_stays_unverified_until_an_organizer_verifies_it(odense, organizer):
    user = make_member("someone@gmail.example")
    options = services.organization_options(user)
    assert not options.proven_by_domain
    assert options.organizations.count() >= 414
    assert services.set_organization(user, odense) is False
    assert services.verify_membership(user, organizer) is True
    user.refresh_from_db()
    assert user.organization_verified
    assert user.organization_verified_by == organizer


def test_verification_without_an_organization_is_refused(organizer):
    user = make_member("nobody@example.org")
    assert services.verify_membership(user, organizer) is False
    assert not user.organization_verified


def test_changing_organization_away_from_the_proven_one_drops_verification(member, odense):
    assert member.organization_verified
    assert services.set_organization(member, odense) is False
    member.refresh_from_db()
    assert member.organization == odense
    assert not member.organization_verified


def test_a_new_address_on_another_domain_moves_a_domain_proven_membership(member, odense):
    EmailAddress.objects.filter(user=member).delete()
    member.email = "planner@odense.dk"
    member.save()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    services.apply_email_domain(member)
    member.refresh_from_db()
    assert member.organization == odense
    assert member.organization_verified


def test_a_new_private_address_drops_a_domain_proven_membership(member, aarhus):
    EmailAddress.objects.filter(user=member).delete()
    member.email = "jens@private.example"
    member.save()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    services.apply_email_domain(member)
    member.refresh_from_db()
    assert member.organization == aarhus
    assert not member.organization_verified


def test_an_organizers_verification_survives_an_email_change(unverified_member, organizer):
    services.verify_membership(unverified_member, organizer)
    EmailAddress.objects.filter(user=unverified_member).delete()
    unverified_member.email = "mikkel@private.example"
    unverified_member.save()
    EmailAddress.objects.create(
        user=unverified_member, email=unverified_member.email, verified=True, primary=True
    )
    services.apply_email_domain(unverified_member)
    unverified_member.refresh_from_db()
    assert unverified_member.organization_verified


def test_admin_action_verifies_and_revokes(client, organizer, unverified_member):
    client.force_login(organizer)
    url = reverse("admin:members_user_changelist")
    response = client.post(
        url, {"action": "verify_membership", "_selected_action": [unverified_member.pk]}, follow=True
    )
    assert response.status_code == 200
    unverified_member.refresh_from_db()
    assert unverified_member.organization_verified
    assert unverified_member.organization_verified_by == organizer

    client.post(url, {"action": "revoke_verification", "_selected_action": [unverified_member.pk]})
    unverified_member.refresh_from_db()
    assert not unverified_member.organization_verified


def test_admin_lists_members_awaiting_verification(client, organizer, member, unverified_member):
    client.force_login(organizer)
    response = client.get(reverse("admin:members_user_changelist"), {"membership": "unverified"})
    assert response.status_code == 200
    assert unverified_member.email in response.text
    assert member.email not in response.text


def test_admin_can_add_a_user_by_email(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:members_user_add"),
        {"email": "added@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.text[:2000]
    assert User.objects.filter(email="added@aarhus.dk").exists()


def test_an_organizer_cannot_grant_privileges_but_marks_coordinators(client, organizer, member):
    from members.services import ensure_organizer_group

    organizer.user_permissions.clear()
    organizer.groups.add(ensure_organizer_group())
    client.force_login(organizer)
    url = reverse("admin:members_user_change", args=[organizer.pk])
    page = client.get(url).text
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page

    data = {
        "email": organizer.email,
        "full_name": organizer.full_name,
        "organization": organizer.organization_id,
        "role": "manager",
        "preferred_language": "en",
        "is_active": "on",
        "is_superuser": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    client.post(url, data)
    organizer.refresh_from_db()
    assert not organizer.is_superuser

    member_url = reverse("admin:members_user_change", args=[member.pk])
    assert 'name="is_organization_coordinator"' in client.get(member_url).text
    client.post(
        member_url,
        {
            "email": member.email,
            "full_name": member.full_name,
            "organization": member.organization_id,
            "role": member.role,
            "preferred_language": "en",
            "is_active": "on",
            "is_organization_coordinator": "on",
        },
    )
    member.refresh_from_db()
    assert member.is_organization_coordinator


def test_organizers_do_not_edit_staff_accounts_or_set_passwords(client, organizer, superuser, member):
    from members.services import ensure_organizer_group

    organizer.user_permissions.clear()
    organizer.groups.add(ensure_organizer_group())
    client.force_login(organizer)
    password_url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    assert (
        client.post(password_url, {"password1": "x-Very-long-9", "password2": "x-Very-long-9"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:members_user_change", args=[superuser.pk]), {"email": "organizer@kl.dk"}
        ).status_code
        == 403
    )
    superuser.refresh_from_db()
    assert superuser.email == "root@example.org" and superuser.check_password(PASSWORD)
    # A member's email (the login) cannot be changed by an organizer either.
    page = client.get(reverse("admin:members_user_change", args=[member.pk])).text
    assert 'name="email"' not in page
