"""Members' data rights: deleting one's account (after a reauthentication or an emailed code)
cancels future seats, promotes the waiting list and anonymizes the past."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events.models import CalendarFeed, Evaluation, Registration, RegistrationLog
from events.services import evaluations
from events.services import registrations as event_registrations
from members import privacy
from members.models import User
from tests import factories
from tests.conftest import PASSWORD, make_member
from tests.members.erasure import past_registration

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


def delete_with_password(client, password=PASSWORD):
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
    response = delete_with_password(client, "not-my-password")
    assert response.status_code == 200  # the form again, with its error
    assert User.objects.filter(pk=member.pk).exists()
    assert client.post(reverse("members:delete_account")).status_code == 302
    assert User.objects.filter(pk=member.pk).exists()


def test_delete_after_reauthentication_removes_the_member_and_signs_out(client, member):
    client.force_login(member)
    response = delete_with_password(client)  # allauth replays the held POST
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
    delete_with_password(client)
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
    past = past_registration(member)
    CalendarFeed.objects.create(user=member)
    client.force_login(member)

    delete_with_password(client)

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
    registration = past_registration(member)
    # What the admin writes when an organizer changes the account or the registration.
    LogEntry.objects.log_actions(organizer.pk, [member, registration], CHANGE, change_message="[]")
    assert LogEntry.objects.filter(object_repr__contains=member.full_name).count() == 2
    privacy.erase_member(member, actor=organizer)
    reprs = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(reprs) == 2
    assert all(member.full_name not in text and member.email not in text for text in reprs)


def test_anonymized_registrations_show_in_the_admin_list_and_change_page(superuser, client, member):
    registration = past_registration(member)
    privacy.erase_member(member, actor=member)
    client.force_login(superuser)
    page = client.get(reverse("admin:events_registration_changelist")).content.decode()
    assert "(account deleted)" in page
    assert client.get(reverse("admin:events_registration_change", args=[registration.pk])).status_code == 200
    registration.refresh_from_db()
    assert str(registration).startswith("(account deleted)")


def test_erasure_cancels_every_future_seat_whatever_the_rate_limit(settings, member):
    settings.REGISTRATION_RATE_LIMIT = 3
    registrations = [
        event_registrations.register(member, factories.event().occasions.get()) for _ in range(3)
    ]
    privacy.erase_member(member, actor=member)
    assert {registration.pk for registration in Registration.objects.filter(status=CANCELLED)} == {
        registration.pk for registration in registrations
    }


def test_erasure_keeps_an_evaluations_ratings_and_erases_what_the_member_wrote(member):
    registration = past_registration(member, days_ago=2)
    evaluations.evaluate(
        registration, rating=4, item_ratings={}, take_home="Ask Karen in Aarhus", theme_wish="Cargo bikes"
    )

    privacy.erase_member(member, actor=member)

    evaluation = Evaluation.objects.get(registration=registration)
    assert (evaluation.rating, evaluation.take_home, evaluation.theme_wish) == (4, "", "")
