"""The organizers' admin for registrations: confirming over the quota, cancelling, attendance and
moving go through events.services and leave both logs."""

import pytest
from django.contrib.messages import WARNING

from events.models import (
    Registration,
    RegistrationLog,
)
from events.services import registrations
from tests import factories
from tests.events.admin_pages import admin_log, messages_of, registrations_url, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)
Action = RegistrationLog.Action


# --- registration actions -------------------------------------------------------------------


def test_confirm_over_quota_confirms_a_waiting_registration_and_logs_it(
    organizer_client, organizer, member, colleague
):
    occasion = factories.event(capacities=(5,), quota=1).occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(colleague, occasion)
    assert waiting.wait_reason == Registration.WaitReason.QUOTA

    response = run_action(organizer_client, registrations_url(), "confirm_over_quota", [waiting])

    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED
    assert waiting.over_quota
    assert RegistrationLog.objects.filter(
        registration=waiting, action=Action.OVERRIDDEN, actor=organizer
    ).exists()
    assert admin_log(waiting, organizer).count() == 1
    assert any("Confirmed 1 registration over quota" in text for _, text in messages_of(response))


def test_confirm_over_quota_is_refused_when_the_occasion_is_full(
    organizer_client, organizer, member, colleague
):
    occasion = factories.event(capacities=(1,), quota=1).occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(colleague, occasion)

    response = run_action(organizer_client, registrations_url(), "confirm_over_quota", [waiting])

    waiting.refresh_from_db()
    assert waiting.status == WAITLISTED
    assert not waiting.over_quota
    assert (WARNING, f"{waiting}: The occasion is full; raise its seats first.") in messages_of(response)
    assert not admin_log(waiting, organizer).exists()
    assert not RegistrationLog.objects.filter(registration=waiting, action=Action.OVERRIDDEN).exists()


def test_cancel_action_cancels_through_services_and_promotes_the_waiting_list(
    organizer_client, organizer, member, other_member
):
    occasion = factories.event(capacities=(1,)).occasions.get()
    holder = registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)

    response = run_action(organizer_client, registrations_url(), "cancel_registrations", [holder])

    holder.refresh_from_db()
    waiting.refresh_from_db()
    assert holder.status == CANCELLED
    assert waiting.status == CONFIRMED
    assert RegistrationLog.objects.filter(
        registration=holder, action=Action.CANCELLED, actor=organizer
    ).exists()
    assert RegistrationLog.objects.filter(registration=waiting, action=Action.PROMOTED).exists()
    assert admin_log(holder, organizer).count() == 1
    texts = [text for _, text in messages_of(response)]
    assert "Cancelled 1 registration." in texts
    assert "1 registration was promoted from the waiting list." in texts

    again = run_action(organizer_client, registrations_url(), "cancel_registrations", [holder])
    assert (WARNING, f"{holder}: already cancelled.") in messages_of(again)
    assert admin_log(holder, organizer).count() == 1


def test_attendance_actions_record_through_services(organizer_client, organizer, member):
    occasion = factories.event().occasions.get()
    registration = registrations.register(member, occasion)
    factories.begun(occasion)

    run_action(organizer_client, registrations_url(), "mark_attended", [registration])
    registration.refresh_from_db()
    assert registration.attended is True

    run_action(organizer_client, registrations_url(), "mark_not_attended", [registration])
    registration.refresh_from_db()
    assert registration.attended is False

    details = list(
        RegistrationLog.objects.filter(registration=registration, action=Action.ATTENDANCE, actor=organizer)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["yes", "no"]
    assert admin_log(registration, organizer).count() == 2


def test_move_action_asks_for_the_occasion_then_moves(organizer_client, organizer, member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.order_by("starts_at")
    registration = registrations.register(member, first)

    page = run_action(organizer_client, registrations_url(), "move_to_occasion", [registration])
    assert page.templates[0].name == "admin/events/registration/move.html"
    assert list(page.context["form"].fields["occasion"].queryset) == [second]

    response = run_action(
        organizer_client,
        registrations_url(),
        "move_to_occasion",
        [registration],
        occasion=second.pk,
        apply="1",
    )

    registration.refresh_from_db()
    assert registration.occasion == second
    assert registration.status == CONFIRMED
    assert RegistrationLog.objects.filter(
        registration=registration, action=Action.MOVED, actor=organizer
    ).exists()
    assert admin_log(registration, organizer).count() == 1
    assert any("Moved 1 registration." in text for _, text in messages_of(response))


def test_move_action_reports_each_refusal(organizer_client, organizer, member, other_member):
    event = factories.event(capacities=(5, 1))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(other_member, second)
    registration = registrations.register(member, first)

    response = run_action(
        organizer_client,
        registrations_url(),
        "move_to_occasion",
        [registration],
        occasion=second.pk,
        apply="1",
    )

    registration.refresh_from_db()
    assert registration.occasion == first
    assert (
        WARNING,
        f"{registration}: There is no free seat on that occasion. You keep your seat on Occasion 1.",
    ) in messages_of(response)
    assert not admin_log(registration, organizer).exists()


def test_move_action_refuses_registrations_of_several_events(organizer_client, member, other_member):
    one = registrations.register(member, factories.event(capacities=(5, 5)).occasions.first())
    other = registrations.register(other_member, factories.event(capacities=(5, 5)).occasions.first())

    response = run_action(organizer_client, registrations_url(), "move_to_occasion", [one, other])

    assert response.templates[0].name == "admin/change_list.html"
    assert any("Select registrations of one event" in text for _, text in messages_of(response))
    assert not RegistrationLog.objects.filter(action=Action.MOVED).exists()
