"""Members' data rights (GDPR): what the portal holds about a person, and erasing it.

`members` knows nothing of events or newsletters; each app that keeps personal data registers
here, in its AppConfig.ready(), a function that returns that data for the member's download and
one that erases it when the account is deleted.
"""

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, get_random_string, salted_hmac

from mail import services as outbox

from .models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataHolder:
    name: str  # the key of this part in the downloaded JSON, e.g. "registrations"
    export: Callable[[Any], Any] | None = None  # user -> JSON-serializable data
    erase: Callable[[Any], None] | None = None  # user -> None, inside the erasure transaction
    order: int = 100  # erasers run in this order (registrations before the outbox rows)


_holders: dict[str, DataHolder] = {}


def register(
    name: str,
    *,
    export: Callable[[Any], Any] | None = None,
    erase: Callable[[Any], None] | None = None,
    order: int = 100,
) -> None:
    _holders[name] = DataHolder(name=name, export=export, erase=erase, order=order)


def holders() -> list[DataHolder]:
    return sorted(_holders.values(), key=lambda holder: (holder.order, holder.name))


# ---------------------------------------------------------------------------------------------
# Download and erasure


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "job_title": user.job_title,
        "phone": user.phone,
        "preferred_language": user.preferred_language,
        "date_joined": _when(user.date_joined),
        "last_login": _when(user.last_login),
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
    }


def _organization(user: User) -> dict[str, Any] | None:
    if user.organization_id is None:
        return None
    verified_by = None
    if user.organization_verified:
        # Which organizer vouched is their personal data, not the member's: only how.
        verified_by = "domain" if user.organization_verified_by_id is None else "organizer"
    return {
        "name": user.organization.name,
        "country": user.organization.country,
        "kind": user.organization.kind,
        "verified": user.organization_verified,
        "verified_at": _when(user.organization_verified_at),
        "verified_by": verified_by,
        "coordinator": user.is_organization_coordinator,
    }


def export_member_data(user: User) -> dict[str, Any]:
    """Everything the portal holds about `user`, as one JSON-serializable document: the profile
    and organization from here, then one part per registered holder (registrations, newsletter,
    emails...)."""
    data: dict[str, Any] = {
        "exported_at": _when(timezone.now()),
        "profile": _profile(user),
        "organization": _organization(user),
    }
    for holder in holders():
        if holder.export is not None:
            data[holder.name] = holder.export(user)
    return data


def _scrub_admin_history(user: User) -> None:
    """The admin's history of changes to the account names the member in each entry's title;
    keep the entries (who changed what, when) under the account number only."""
    content_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.filter(content_type=content_type, object_id=str(user.pk)).update(
        object_repr=f"#{user.pk}"
    )


@transaction.atomic
def erase_member(user: User, *, actor: User | None) -> None:
    """Delete the account and everything personal the portal holds about it.

    Each registered holder erases its part first, in order (registrations are cancelled, which
    writes notices to the outbox, before the outbox rows are erased); then the account goes,
    and with it its email addresses. `actor` is who asked: the member, an organizer acting on
    the member's emailed request, or None for the retention job. The record of the erasure
    names only account numbers.
    """
    user_id, actor_id = user.pk, (actor.pk if actor is not None else None)
    for holder in holders():
        if holder.erase is not None:
            holder.erase(user)
    _scrub_admin_history(user)
    user.delete()
    if actor_id is None:
        logger.info("Account #%s erased by the retention job", user_id)
    elif actor_id == user_id:
        logger.info("Account #%s erased at the member's own request", user_id)
    else:
        logger.info("Account #%s erased by organizer #%s", user_id, actor_id)


# ---------------------------------------------------------------------------------------------
# Retention of accounts that were never confirmed


def unconfirmed_accounts() -> QuerySet:
    """Accounts whose owner never confirmed an email address and never signed in: nobody has
    proven the address is theirs. Staff accounts and accounts whose membership an organizer
    verified (made by hand in admin, perhaps registered by a coordinator) are never counted."""
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return User.objects.filter(
        last_login=None, is_staff=False, is_superuser=False, organization_verified_at=None
    ).exclude(Exists(verified))


def unconfirmed_account_deletion_date(user: User) -> dt.date | None:
    """When the retention job deletes the account, or None when it is confirmed (or staff)."""
    if user.pk is None or not unconfirmed_accounts().filter(pk=user.pk).exists():
        return None
    deleted_at = user.date_joined + dt.timedelta(days=settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS)
    return timezone.localdate(deleted_at)


def delete_unconfirmed_accounts(at: dt.datetime | None = None) -> int:
    """Delete the accounts unconfirmed for RETENTION_UNCONFIRMED_ACCOUNT_DAYS; each through
    erase_member in its own transaction, so one failure keeps the others."""
    at = at or timezone.now()
    cutoff = at - dt.timedelta(days=settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS)
    deleted = 0
    for user in unconfirmed_accounts().filter(date_joined__lt=cutoff).order_by("pk"):
        try:
            erase_member(user, actor=None)
        except Exception:  # a periodic job: the next account must not wait for this one
            logger.exception("Retention: could not delete unconfirmed account #%s", user.pk)
            continue
        deleted += 1
    return deleted


# ---------------------------------------------------------------------------------------------
# A code by email, to confirm an erasure for an account without a password (it signs in by
# code, and allauth's reauthentication asks for a password only)

_CODE_SESSION_KEY = "members_erasure_code"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mistake
ERASURE_CODE_VALID_SECONDS = 15 * 60
ERASURE_CODE_ATTEMPTS = 3


def _code_digest(user: User, code: str) -> str:
    return salted_hmac("members.erasure-code", f"{user.pk}:{code.strip().upper()}").hexdigest()


def erasure_code_pending(session, user: User) -> bool:
    state = session.get(_CODE_SESSION_KEY)
    return bool(
        state
        and state["user"] == user.pk
        and state["attempts"] < ERASURE_CODE_ATTEMPTS
        and time.time() - state["at"] < ERASURE_CODE_VALID_SECONDS
    )


def send_erasure_code(session, user: User) -> None:
    """Email a one-time code; only its digest is kept, in the member's own session."""
    code = get_random_string(8, _CODE_ALPHABET)
    session[_CODE_SESSION_KEY] = {
        "user": user.pk,
        "digest": _code_digest(user, code),
        "at": time.time(),
        "attempts": 0,
    }
    language = user.preferred_language or settings.LANGUAGE_CODE
    context = {
        "code": code,
        "minutes": ERASURE_CODE_VALID_SECONDS // 60,
        "contact_email": settings.PRIVACY_CONTACT_EMAIL,
    }
    outbox.write(
        "account_erasure_code",
        context,
        key=f"account-erasure-code:{uuid.uuid4()}",
        recipient=user.email,
        language=language,
        user=user,
        sensitive=True,
    )


def check_erasure_code(session, user: User, code: str) -> bool:
    """True for the code last sent, within its time and attempts; each wrong try counts."""
    if not erasure_code_pending(session, user):
        return False
    state = session[_CODE_SESSION_KEY]
    if constant_time_compare(state["digest"], _code_digest(user, code)):
        del session[_CODE_SESSION_KEY]
        return True
    session[_CODE_SESSION_KEY] = {**state, "attempts": state["attempts"] + 1}
    return False
