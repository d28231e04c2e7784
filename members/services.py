"""Rules about members and their organizations. Views, admin actions, signals, commands and
tests all change membership state through these functions.

Membership is verified, not merely claimed, because seat quotas per organization rely on it:
- a verified email address on exactly one organization's domain sets and verifies it;
- a domain shared by several organizations (all Swedish county administrative boards use
  lansstyrelsen.se) lets the member pick among those, and the pick counts as verified;
- any other pick stays unverified until an organizer verifies it in admin.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .dispatch import membership_verified
from .models import Organization, User


@dataclass(frozen=True)
class OrganizationOptions:
    """What the profile form may offer a member."""

    organizations: QuerySet  # the organizations the member may pick from
    proven_by_domain: bool  # True when every offered organization is proven by the email domain


def verified_email_domain(user: User) -> str | None:
    """The domain of the member's primary email address, if that address is verified."""
    verified = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
    if not verified:
        return None
    return user.email.rsplit("@", 1)[-1].lower()


def organizations_proven_by_email(user: User) -> QuerySet:
    domain = verified_email_domain(user)
    if domain is None:
        return Organization.objects.none()
    return Organization.objects.for_email_domain(domain)


def organization_options(user: User) -> OrganizationOptions:
    proven = organizations_proven_by_email(user)
    if proven.exists():
        return OrganizationOptions(organizations=proven, proven_by_domain=True)
    return OrganizationOptions(organizations=Organization.objects.active(), proven_by_domain=False)


def _mark_verified(user: User, by: User | None) -> None:
    user.organization_verified_at = timezone.now()
    user.organization_verified_by = by
    # Listeners (waiting lists held back for unverified members) act once the row is saved.
    transaction.on_commit(lambda: membership_verified.send(sender=User, user=user))


def _mark_unverified(user: User) -> None:
    user.organization_verified_at = None
    user.organization_verified_by = None


@transaction.atomic
def set_organization(user: User, organization: Organization) -> bool:
    """Record the member's organization; returns whether the membership is verified."""
    if organization.pk == user.organization_id and user.organization_verified:
        return True
    user.organization = organization
    if organizations_proven_by_email(user).filter(pk=organization.pk).exists():
        _mark_verified(user, by=None)
    else:
        _mark_unverified(user)
    user.save(update_fields=["organization", "organization_verified_at", "organization_verified_by"])
    return user.organization_verified


@transaction.atomic
def apply_email_domain(user: User) -> None:
    """Re-read membership after an email address was verified or changed.

    A single matching organization is set and verified. A verification that only the old
    email domain proved is dropped when the new address no longer proves it; one given by an
    organizer stays, because it vouches for the person, not the address.
    """
    proven_ids = set(organizations_proven_by_email(user).values_list("pk", flat=True))
    if user.organization_verified and (
        user.organization_id in proven_ids or user.organization_verified_by_id is not None
    ):
        return
    if len(proven_ids) == 1:
        user.organization_id = proven_ids.pop()
        _mark_verified(user, by=None)
    elif user.organization_id in proven_ids:
        _mark_verified(user, by=None)
    elif user.organization_verified:
        _mark_unverified(user)
    else:
        return
    user.save(update_fields=["organization", "organization_verified_at", "organization_verified_by"])


@transaction.atomic
def verify_membership(user: User, organizer: User) -> bool:
    """An organizer vouches for the member's organization. Returns False if there is none."""
    if user.organization_id is None:
        return False
    _mark_verified(user, by=organizer)
    user.save(update_fields=["organization_verified_at", "organization_verified_by"])
    return True


@transaction.atomic
def revoke_verification(user: User) -> None:
    _mark_unverified(user)
    user.save(update_fields=["organization_verified_at", "organization_verified_by"])


@transaction.atomic
def update_profile(user: User, *, organization: Organization, **fields) -> bool:
    """Save the profile fields and the organization; returns whether membership is verified."""
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    return set_organization(user, organization)


def set_preferred_language(user: User, language: str) -> None:
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])


ORGANIZER_GROUP = "Organizers"
# What an organizer needs: run events, registrations and newsletters; verify members (view and
# change users and organizations), but not delete accounts or grant permissions.
_ORGANIZER_PERMISSIONS = {
    "events": None,  # every permission of the app
    "newsletters": None,
    "outbox": {"view_outgoingmessage", "change_outgoingmessage"},
    "members": {"view_user", "change_user", "view_organization", "change_organization", "add_organization",
                "view_organizationdomain", "add_organizationdomain", "change_organizationdomain",
                "delete_organizationdomain"},
}  # fmt: skip


def ensure_organizer_group():
    """The permission group organizers' staff accounts get; kept in step on every migrate."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=ORGANIZER_GROUP)
    permissions = []
    for app_label, codenames in _ORGANIZER_PERMISSIONS.items():
        query = Permission.objects.filter(content_type__app_label=app_label)
        if codenames is not None:
            query = query.filter(codename__in=codenames)
        permissions += list(query)
    group.permissions.set(permissions)
    return group
