"""Members' data rights: the privacy page, the data download, deleting one's account (and an
organizer doing it for a member who asks), and the retention jobs."""

import datetime as dt
import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events import tasks as event_tasks
from events.models import CalendarFeed, Registration, RegistrationLog
from events.services import erasure, lifecycle
from events.services import registrations as event_registrations
from members import privacy
from members import services as member_services
from members import tasks as member_tasks
from members.models import User
from tests import factories
from tests.conftest import PASSWORD, make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


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


def _past_registration(user, *, diet="vegetarian", accessibility="wheelchair", days_ago=10):
    """A confirmed registration of an event that ended `days_ago` days ago."""
    now = timezone.now()
    event = factories.event(
        days_ahead=-days_ago,
        opens_at=now - dt.timedelta(days=days_ago + 20),
        closes_at=now - dt.timedelta(days=days_ago + 1),
    )
    occasion = event.occasions.get()
    return event_registrations.register(
        user,
        occasion,
        diet=diet,
        accessibility=accessibility,
        listed=True,
        at=now - dt.timedelta(days=days_ago + 5),
    )


def _delete_with_password(client, password=PASSWORD):
    """Ask to delete, and answer allauth's password page as a browser would (its form carries
    the `next` address of the held request)."""
    held = client.post(reverse("members:delete_account"))
    assert held.status_code == 302
    page = client.get(held["Location"]).content.decode()
    action = reverse("account_reauthenticate")
    form = page.split(f'action="{action}"')[1].split("</form>")[0]
    next_url = re.search(r'name="next" value="([^"]+)"', form).group(1)
    return client.post(action, {"password": password, "next": next_url})


# ---------------------------------------------------------------------------------------------
# The privacy page


@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_privacy_page_is_served_in_each_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert settings.PRIVACY_CONTACT_EMAIL in page
    assert str(settings.RETENTION_NEEDS_DAYS) in page


def test_privacy_page_names_the_contact_and_retention_from_settings(client, settings):
    settings.PRIVACY_CONTACT_EMAIL = "dpo@network.example"
    settings.RETENTION_NEEDS_DAYS = 45
    settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS = 9
    page = client.get(reverse("privacy")).content.decode()
    assert 'href="mailto:dpo@network.example"' in page
    assert "erased 45 days after the event ends" in page
    assert "deleted after 9 days" in page


def test_privacy_page_is_linked_from_the_footer_and_the_sign_up_form(client):
    privacy_link = f'href="{reverse("privacy")}"'
    footer = client.get(reverse("home")).content.decode().split('<footer class="site-footer">')[1]
    assert privacy_link in footer
    signup = client.get(reverse("account_signup")).content.decode()
    assert privacy_link in signup
    assert 'name="password1"' in signup  # allauth's form is still there


def test_privacy_page_is_readable_before_the_profile_is_complete(client):
    newcomer = make_member("newcomer@aarhus.dk")
    client.force_login(newcomer)
    assert client.get(reverse("privacy")).status_code == 200


# ---------------------------------------------------------------------------------------------
# Download my data


def test_download_is_one_json_attachment_with_profile_organization_and_registrations(
    client, member, other_member, organizer
):
    event = factories.event(title="Charging hubs")
    registration = event_registrations.register(member, event.occasions.get(), diet="vegan", listed=True)
    event_registrations.record_attendance(registration, True, organizer=organizer)
    event_registrations.register(other_member, event.occasions.get(), diet="halal")
    client.force_login(member)

    response = client.get(reverse("members:download_data"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert re.match(
        r'attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.json"', response["Content-Disposition"]
    )
    data = json.loads(response.content)
    assert data["profile"]["email"] == member.email
    assert data["profile"]["full_name"] == "Jens Kristensen"
    assert data["profile"]["email_addresses"] == [{"email": member.email, "verified": True, "primary": True}]
    assert data["organization"]["name"] == member.organization.name
    assert data["organization"]["verified"] is True
    assert data["organization"]["verified_by"] == "domain"
    [exported] = data["registrations"]
    assert exported["event"] == "Charging hubs"
    assert exported["status"] == CONFIRMED
    assert exported["dietary_needs"] == "vegan"
    assert exported["listed_on_participant_list"] is True
    assert exported["attended"] is True
    assert [(entry["action"], entry["by"]) for entry in exported["log"]] == [
        ("confirmed", "you"),
        ("attendance", "organizer"),
    ]
    # Only the member's own data: no other participant, no organizer's address.
    body = response.content.decode()
    assert other_member.email not in body and "halal" not in body
    assert organizer.email not in body


def test_download_says_an_organizer_verified_the_membership(client, unverified_member, organizer):
    member_services.verify_membership(unverified_member, organizer)
    client.force_login(unverified_member)
    data = json.loads(client.get(reverse("members:download_data")).content)
    assert data["organization"]["verified_by"] == "organizer"
    assert organizer.email not in json.dumps(data)


def test_download_contains_every_registered_holder(client, member, extra_holder):
    extra_holder("newsletter", export=lambda user: {"status": "active", "email": user.email}, order=200)
    extra_holder("emails", export=lambda user: [{"subject": "Welcome"}], order=900)
    client.force_login(member)
    data = json.loads(client.get(reverse("members:download_data")).content)
    assert data["newsletter"] == {"status": "active", "email": member.email}
    assert data["emails"] == [{"subject": "Welcome"}]


def test_download_needs_a_signed_in_member(client):
    response = client.get(reverse("members:download_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_links_to_download_and_delete(client, member):
    client.force_login(member)
    page = client.get(reverse("members:profile")).content.decode()
    assert reverse("members:download_data") in page
    assert reverse("members:delete_account") in page
    assert reverse("privacy") in page


# ---------------------------------------------------------------------------------------------
# Delete my account


def test_delete_without_reauthentication_redirects_to_reauthenticate(client, member):
    client.force_login(member)
    assert client.get(reverse("members:delete_account")).status_code == 200
    response = client.post(reverse("members:delete_account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert User.objects.filter(pk=member.pk).exists()


def test_delete_with_a_wrong_password_deletes_nothing(client, member):
    client.force_login(member)
    response = _delete_with_password(client, "not-my-password")
    assert response.status_code == 200  # the form again, with its error
    assert User.objects.filter(pk=member.pk).exists()
    assert client.post(reverse("members:delete_account")).status_code == 302
    assert User.objects.filter(pk=member.pk).exists()


def test_delete_after_reauthentication_removes_the_member_and_signs_out(client, member):
    client.force_login(member)
    response = _delete_with_password(client)  # allauth replays the held POST
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    assert not EmailAddress.objects.filter(email=member.email).exists()
    assert "_auth_user_id" not in client.session


def test_delete_right_after_a_reauthentication_needs_no_second_password(client, member):
    client.force_login(member)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("members:delete_account"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not User.objects.filter(pk=member.pk).exists()


def test_an_account_without_password_confirms_deletion_by_an_emailed_code(client, member):
    member.set_unusable_password()
    member.save()
    client.force_login(member)
    url = reverse("members:delete_account")
    assert "send_code" in client.get(url).content.decode()
    mail.outbox.clear()
    client.post(url, {"send_code": "1"})
    [message] = mail.outbox
    assert message.to == [member.email]
    code = re.search(r"^([A-Z2-9]{8})$", message.body, re.MULTILINE).group(1)

    client.post(url, {"code": "WRONG234"})
    assert User.objects.filter(pk=member.pk).exists()
    response = client.post(url, {"code": code.lower()})
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()


def test_an_erasure_code_stops_working_after_three_wrong_tries(client, member):
    member.set_unusable_password()
    member.save()
    client.force_login(member)
    url = reverse("members:delete_account")
    mail.outbox.clear()
    client.post(url, {"send_code": "1"})
    code = re.search(r"^([A-Z2-9]{8})$", mail.outbox[-1].body, re.MULTILINE).group(1)
    for _ in range(privacy.ERASURE_CODE_ATTEMPTS):
        client.post(url, {"code": "WRONG234"})
    client.post(url, {"code": code})
    assert User.objects.filter(pk=member.pk).exists()


def test_a_member_with_an_incomplete_profile_can_delete_the_account(client):
    newcomer = make_member("newcomer@aarhus.dk")
    client.force_login(newcomer)
    assert client.get(reverse("members:delete_account")).status_code == 200
    _delete_with_password(client)
    assert not User.objects.filter(pk=newcomer.pk).exists()


def test_deleting_cancels_future_seats_promotes_the_waiting_list_and_anonymizes_the_past(
    client, member, colleague, other_member
):
    event = factories.event(capacities=(1,), cancellation_deadline=timezone.now() - dt.timedelta(hours=1))
    occasion = event.occasions.get()
    # The deadline passed after they registered; erasure cancels the seat all the same.
    seat = event_registrations.register(
        member, occasion, diet="vegan", at=timezone.now() - dt.timedelta(hours=2)
    )
    waiting = event_registrations.register(other_member, occasion, at=timezone.now() - dt.timedelta(hours=2))
    assert (seat.status, waiting.status) == (CONFIRMED, WAITLISTED)
    past = _past_registration(member)
    CalendarFeed.objects.create(user=member)
    client.force_login(member)

    _delete_with_password(client)

    assert not User.objects.filter(pk=member.pk).exists()
    seat.refresh_from_db()
    assert (seat.user, seat.status, seat.diet) == (None, CANCELLED, "")
    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED
    assert RegistrationLog.objects.filter(registration=waiting, action="promoted").exists()
    past.refresh_from_db()
    assert past.user is None
    assert past.status == CONFIRMED  # still counts for the event's statistics
    assert (past.diet, past.accessibility, past.listed) == ("", "", False)
    assert past.organization_id == colleague.organization_id
    assert list(past.log.values_list("action", flat=True)) == ["confirmed"]
    assert Registration.objects.confirmed().filter(occasion=occasion).count() == 1
    assert Registration.objects.confirmed().filter(occasion=past.occasion).count() == 1
    assert not CalendarFeed.objects.exists()


def test_erasure_withdraws_a_waiting_place_of_a_past_occasion_without_promoting(member, other_member):
    now = timezone.now()
    event = factories.event(
        capacities=(1,),
        days_ahead=-3,
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=5),
    )
    occasion = event.occasions.get()
    event_registrations.register(other_member, occasion, at=now - dt.timedelta(days=10))
    waiting = event_registrations.register(member, occasion, at=now - dt.timedelta(days=9))
    assert waiting.status == WAITLISTED

    privacy.erase_member(member, actor=member)

    waiting.refresh_from_db()
    assert (waiting.user, waiting.status) == (None, CANCELLED)
    assert Registration.objects.confirmed().filter(occasion=occasion).count() == 1


def test_erasure_runs_the_registered_erasers_in_order_before_the_account_goes(member, extra_holder):
    seen = []
    extra_holder(
        "emails",
        erase=lambda user: seen.append(("emails", User.objects.filter(pk=user.pk).exists())),
        order=900,
    )
    extra_holder("newsletter", erase=lambda user: seen.append(("newsletter", True)), order=200)
    privacy.erase_member(member, actor=member)
    assert seen == [("newsletter", True), ("emails", True)]
    assert not User.objects.filter(pk=member.pk).exists()


def test_erasure_leaves_no_name_in_the_admin_history(member, organizer):
    registration = _past_registration(member)
    # What the admin writes when an organizer changes the account or the registration.
    LogEntry.objects.log_actions(organizer.pk, [member, registration], CHANGE, change_message="[]")
    assert LogEntry.objects.filter(object_repr__contains=member.full_name).count() == 2
    privacy.erase_member(member, actor=organizer)
    reprs = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(reprs) == 2
    assert all(member.full_name not in text and member.email not in text for text in reprs)


def test_anonymized_registrations_show_in_the_admin_list_and_change_page(superuser, client, member):
    registration = _past_registration(member)
    privacy.erase_member(member, actor=member)
    client.force_login(superuser)
    page = client.get(reverse("admin:events_registration_changelist")).content.decode()
    assert "(account deleted)" in page
    assert client.get(reverse("admin:events_registration_change", args=[registration.pk])).status_code == 200
    registration.refresh_from_db()
    assert str(registration).startswith("(account deleted)")


# ---------------------------------------------------------------------------------------------
# Erasing from admin, for a member who asks by email


@pytest.fixture
def admin_client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def group_organizer(db):
    """An organizer with exactly the Organizers group's permissions (no delete_user)."""
    user = make_member("group-organizer@kl.dk")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=member_services.ORGANIZER_GROUP))
    return User.objects.get(pk=user.pk)


def _erase_action(client, *users, confirm=True):
    data = {"action": "erase_accounts", "_selected_action": [user.pk for user in users]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse("admin:members_user_changelist"), data)


def test_an_organizer_erases_a_member_with_the_admin_action(admin_client_for, group_organizer, member):
    registration = _past_registration(member)
    client = admin_client_for(group_organizer)

    confirmation = _erase_action(client, member, confirm=False)
    assert confirmation.status_code == 200
    assert member.email in confirmation.content.decode()
    assert User.objects.filter(pk=member.pk).exists()

    response = _erase_action(client, member)
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    registration.refresh_from_db()
    assert (registration.user, registration.diet) == (None, "")
    entry = LogEntry.objects.get(action_flag=DELETION, object_id=str(member.pk))
    assert entry.user == group_organizer
    assert entry.object_repr == f"#{member.pk}"


def test_an_organizer_erases_a_member_from_the_delete_page(admin_client_for, group_organizer, member):
    _past_registration(member)
    client = admin_client_for(group_organizer)
    url = reverse("admin:members_user_delete", args=[member.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert member.email in page.content.decode()
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()


def test_an_organizer_cannot_erase_a_staff_account(admin_client_for, group_organizer, organizer):
    client = admin_client_for(group_organizer)
    _erase_action(client, organizer)
    assert User.objects.filter(pk=organizer.pk).exists()
    assert client.get(reverse("admin:members_user_delete", args=[organizer.pk])).status_code == 403
    assert (
        client.post(reverse("admin:members_user_delete", args=[organizer.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert User.objects.filter(pk=organizer.pk).exists()


def test_a_superuser_erases_a_member_with_registrations(admin_client_for, superuser, member):
    """The reported bug: the delete page refused any member with a registration."""
    future = event_registrations.register(member, factories.event().occasions.get(), diet="vegan")
    past = _past_registration(member)
    client = admin_client_for(superuser)
    response = client.post(reverse("admin:members_user_delete", args=[member.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    future.refresh_from_db()
    past.refresh_from_db()
    assert (future.user, future.status) == (None, CANCELLED)
    assert (past.user, past.status) == (None, CONFIRMED)


def test_a_superuser_can_erase_a_staff_account(admin_client_for, superuser, organizer):
    client = admin_client_for(superuser)
    _erase_action(client, organizer)
    assert not User.objects.filter(pk=organizer.pk).exists()


def test_django_bulk_delete_is_replaced_by_the_erasure(admin_client_for, superuser, member):
    client = admin_client_for(superuser)
    page = client.get(reverse("admin:members_user_changelist")).content.decode()
    assert 'value="erase_accounts"' in page
    assert 'value="delete_selected"' not in page


# ---------------------------------------------------------------------------------------------
# Retention


def test_needs_are_erased_n_days_after_the_event_and_not_before(settings, member):
    settings.RETENTION_NEEDS_DAYS = 30
    registration = _past_registration(member, days_ago=1)
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
    old = _past_registration(member, days_ago=6)
    recent = _past_registration(member, days_ago=2)
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
    registration = _past_registration(member)
    client = admin_client_for(superuser)
    page = client.get(reverse("admin:events_registration_change", args=[registration.pk])).content.decode()
    assert "needs erased on" in page.lower()
    assert erasure.needs_erasure_date(registration.event) == timezone.localdate(
        registration.event.ends_at + dt.timedelta(days=30)
    )


def test_organizers_can_still_message_cancel_and_export_an_event_with_an_erased_participant(
    admin_client_for, superuser, member, colleague
):
    registration = _past_registration(member)
    event = registration.event
    event_registrations.register(colleague, registration.occasion, at=registration.created_at)
    privacy.erase_member(member, actor=member)

    mail.outbox.clear()
    written = lifecycle.message_participants(
        event, subject="Slides", body="Here they are.", organizer=superuser
    )
    assert written >= 1  # the colleague's copy; the erased member gets none
    client = admin_client_for(superuser)
    changelist = reverse("admin:events_registration_changelist")
    export = client.post(changelist, {"action": "export_csv", "_selected_action": [registration.pk]})
    assert export.status_code == 200 and "(account deleted)" in export.content.decode("utf-8-sig")
    client.post(changelist, {"action": "cancel_registrations", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert registration.status == CANCELLED


def test_erasure_cancels_every_future_seat_whatever_the_rate_limit(settings, member):
    settings.REGISTRATION_RATE_LIMIT = 3
    registrations = [
        event_registrations.register(member, factories.event().occasions.get()) for _ in range(3)
    ]
    privacy.erase_member(member, actor=member)
    assert {registration.pk for registration in Registration.objects.filter(status=CANCELLED)} == {
        registration.pk for registration in registrations
    }
