"""The retention jobs: needs erased some days after the event, unconfirmed accounts deleted after
some days, and the admin pages saying when."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from events import tasks as event_tasks
from events.models import Registration
from events.services import erasure
from members import privacy
from members import services as member_services
from members import tasks as member_tasks
from members.models import User
from tests.conftest import PASSWORD
from tests.members.erasure import past_registration

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


# ---------------------------------------------------------------------------------------------
# Retention


def test_needs_are_erased_n_days_after_the_event_and_not_before(settings, member):
    settings.RETENTION_NEEDS_DAYS = 30
    registration = past_registration(member, days_ago=1)
    ends_at = registration.event.ends_at

    assert erasure.erase_expired_needs(at=ends_at + dt.timedelta(days=30) - dt.timedelta(hours=1)) == 0
    registration.refresh_from_db()
    assert (registration.diet, registration.accessibility) == ("vegetarian", "wheelchair")

    assert erasure.erase_expired_needs(at=ends_at + dt.timedelta(days=30, hours=1)) == 1
    registration.refresh_from_db()
    assert (registration.diet, registration.accessibility) == ("", "")
    assert registration.user == member and registration.status == CONFIRMED


def test_the_daily_job_erases_expired_needs(settings, member):
    settings.RETENTION_NEEDS_DAYS = 5
    old = past_registration(member, days_ago=6)
    recent = past_registration(member, days_ago=2)
    assert event_tasks.erase_expired_needs.delay().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.diet == "" and recent.diet == "vegetarian"
    assert "events.tasks.erase_expired_needs" in {
        job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()
    }


def _signed_up(email: str, days_ago: float, *, verified: bool = False, logged_in: bool = False) -> User:
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    user.date_joined = timezone.now() - dt.timedelta(days=days_ago)
    user.last_login = timezone.now() if logged_in else None
    user.save()
    return user


def test_unconfirmed_accounts_are_deleted_after_k_days_and_confirmed_ones_kept(settings):
    settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS = 14
    stale = _signed_up("stale@example.org", 15)
    fresh = _signed_up("fresh@example.org", 13)
    confirmed = _signed_up("confirmed@example.org", 40, verified=True)
    signed_in = _signed_up("signed-in@example.org", 40, logged_in=True)

    assert member_tasks.delete_unconfirmed_accounts.delay().get() == 1

    remaining = set(User.objects.values_list("email", flat=True))
    assert stale.email not in remaining
    assert {fresh.email, confirmed.email, signed_in.email} <= remaining
    assert "members.tasks.delete_unconfirmed_accounts" in {
        job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_staff_and_organizer_verified_accounts_are_never_deleted_as_unconfirmed(settings, odense, organizer):
    settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS = 14
    staff = _signed_up("new-organizer@kl.dk", 60)
    staff.is_staff = True
    staff.save()
    vouched = _signed_up("added-by-hand@example.org", 60)
    vouched.organization = odense
    vouched.save()
    member_services.verify_membership(vouched, organizer)
    assert privacy.delete_unconfirmed_accounts() == 0
    assert User.objects.filter(pk__in=[staff.pk, vouched.pk]).count() == 2


def test_the_user_change_page_shows_when_an_unconfirmed_account_goes(
    settings, admin_client_for, superuser, member
):
    settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS = 14
    stale = _signed_up("stale@example.org", 3)
    client = admin_client_for(superuser)
    page = client.get(reverse("admin:members_user_change", args=[stale.pk])).content.decode()
    expected = timezone.localdate(stale.date_joined + dt.timedelta(days=14))
    assert "will be deleted on" in page
    assert f"{expected:%Y}" in page and privacy.unconfirmed_account_deletion_date(stale) == expected
    confirmed_page = client.get(reverse("admin:members_user_change", args=[member.pk])).content.decode()
    assert "will be deleted on" not in confirmed_page


def test_the_registration_change_page_shows_when_needs_are_erased(
    settings, admin_client_for, superuser, member
):
    settings.RETENTION_NEEDS_DAYS = 30
    registration = past_registration(member)
    client = admin_client_for(superuser)
    page = client.get(reverse("admin:events_registration_change", args=[registration.pk])).content.decode()
    assert "needs erased on" in page.lower()
    assert erasure.needs_erasure_date(registration.event) == timezone.localdate(
        registration.event.ends_at + dt.timedelta(days=30)
    )
