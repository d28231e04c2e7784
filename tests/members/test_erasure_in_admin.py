"""An organizer erasing a member who asks by email: the admin action and delete page erase instead of
deleting, staff accounts are the superuser's, and an erased participant leaves the event usable."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from events.models import Registration
from events.services import lifecycle
from events.services import registrations as event_registrations
from members import privacy
from members import services as member_services
from members.models import User
from tests import factories
from tests.conftest import make_member
from tests.members.erasure import past_registration

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


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
    registration = past_registration(member)
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
    past_registration(member)
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
    past = past_registration(member)
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


def test_organizers_can_still_message_cancel_and_export_an_event_with_an_erased_participant(
    admin_client_for, superuser, member, colleague
):
    registration = past_registration(member)
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
