"""Rules about members and their organizations. Views, admin actions, signals, commands and
tests all change membership state through these functions.

Membership is verified, not merely claimed, because seat quotas per organization rely on it:
- a verified email address on exactly one organization's domain sets and verifies it;
- a domain shared by several organizations (all Swedish county administrative boards use
  lansstyrelsen.se) lets the member pick among those, and the first pick counts as verified;
  a later change to another organization waits for an organizer, else a member whose own
  board's seats are used could take another board's seats by switching;
- any other pick stays unverified until an organizer verifies it in admin;
- an organizer who sets a member's organization in admin vouches for it.

Coordinator rights are given for one organization: every change of organization drops them.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import registry
from .dispatch import membership_verified
from .models import Organization, User


@dataclass(frozen=True)
class OrganizationOptions:
    """What the profile form may offer a member."""

    organizations: QuerySet  # the organizations the member may pick from
    proven_by_domain: bool  # True when every offered organization is proven by the email domain


def has_verified_email(user: User) -> bool:
    """Whether the member proved they own their current address (its confirmation link)."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def verified_email_domain(user: User) -> str | None:
    """The domain of the member's primary email address, if that address is verified."""
    if not has_verified_email(user):
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


_MEMBERSHIP_FIELDS = [
    "organization",
    "organization_verified_at",
    "organization_verified_by",
    "is_organization_coordinator",
]


def _move_to(user: User, organization_id: int | None) -> None:
    """The one place a member's organization changes. Coordinator rights were given for the
    old organization (an organizer vouched for this person there), so they stay behind."""
    user.organization_id = organization_id
    user.is_organization_coordinator = False


def _domain_proves(user: User, organization_id: int, *, first_pick: bool) -> bool:
    """Whether the verified address alone proves membership of the organization: it must be
    the only organization on the domain, or the member's first pick among those sharing it."""
    proven_ids = list(organizations_proven_by_email(user).values_list("pk", flat=True))
    return organization_id in proven_ids and (len(proven_ids) == 1 or first_pick)


@transaction.atomic
def set_organization(user: User, organization: Organization | None, *, by: User | None = None) -> bool:
    """Record the member's organization; returns whether the membership is verified.

    `by` is the organizer who chose it in admin: choosing it, they vouch for it.
    """
    new_id = organization.pk if organization is not None else None
    if new_id == user.organization_id and user.organization_verified and by is None:
        return True
    first_pick = user.organization_id is None
    if new_id != user.organization_id:
        _move_to(user, new_id)
    if new_id is None:
        _mark_unverified(user)
    elif by is not None:
        _mark_verified(user, by=by)
    elif _domain_proves(user, new_id, first_pick=first_pick):
        _mark_verified(user, by=None)
    else:
        _mark_unverified(user)
    user.save(update_fields=_MEMBERSHIP_FIELDS)
    return user.organization_verified


@transaction.atomic
def apply_email_domain(user: User) -> None:
    """Re-read membership after an email address was verified or changed.

    A single matching organization is set and verified. A verification that only the old
    email domain proved is dropped when the new address no longer proves it; one given by an
    organizer stays, because it vouches for the person, not the address. An unverified pick
    among organizations sharing the domain stays unverified: the address cannot tell a first
    pick from a later switch, so an organizer decides.
    """
    proven_ids = set(organizations_proven_by_email(user).values_list("pk", flat=True))
    if user.organization_verified and (
        user.organization_id in proven_ids or user.organization_verified_by_id is not None
    ):
        return
    if len(proven_ids) == 1:
        (proven_id,) = proven_ids
        if proven_id != user.organization_id:
            _move_to(user, proven_id)
        _mark_verified(user, by=None)
    elif user.organization_verified:
        _mark_unverified(user)
    else:
        return
    user.save(update_fields=_MEMBERSHIP_FIELDS)


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


def ensure_organizer_group():
    """The permission group organizers' staff accounts get, with what each app registered they
    need (members.registry); kept in step on every migrate."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=ORGANIZER_GROUP)
    permissions = []
    for app_label, codenames in registry.organizer_permissions().items():
        query = Permission.objects.filter(content_type__app_label=app_label)
        if codenames is not None:
            query = query.filter(codename__in=codenames)
        permissions += list(query)
    group.permissions.set(permissions)
    return group
