"""The registration rules of events.services, one by one."""

import datetime as dt

import pytest
from django.utils import timezone

from events import selectors
from events.errors import RegistrationError
from events.models import Event, Registration, RegistrationLog
from events.services import registrations as event_registrations
from members import services as member_services
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


def _members(organization, count, prefix="p"):
    domain = organization.domains.first().domain
    return [make_member(f"{prefix}{index}@{domain}", organization) for index in range(count)]


# --- refusals -------------------------------------------------------------------------------


def test_register_refuses_before_registration_opens(member):
    event = factories.event(opens_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(RegistrationError) as error:
        event_registrations.register(member, event.occasions.get())
    assert error.value.code == "not_open"


def test_register_refuses_after_registration_closes(member):
    now = timezone.now()
    event = factories.event(opens_at=now - dt.timedelta(days=3), closes_at=now - dt.timedelta(days=1))
    with pytest.raises(RegistrationError) as error:
        event_registrations.register(member, event.occasions.get())
    assert error.value.code == "closed"


def test_register_refuses_a_cancelled_event(member):
    event = factories.event(status=Event.Status.CANCELLED)
    with pytest.raises(RegistrationError) as error:
        event_registrations.register(member, event.occasions.get())
    assert error.value.code == "cancelled"


def test_register_refuses_a_draft(member):
    event = factories.event(status=Event.Status.DRAFT)
    with pytest.raises(RegistrationError):
        event_registrations.register(member, event.occasions.get())


def test_register_refuses_an_incomplete_profile(db):
    user = make_member("new@aarhus.dk")
    event = factories.event()
    with pytest.raises(RegistrationError) as error:
        event_registrations.register(user, event.occasions.get())
    assert error.value.code == "profile"


def test_register_refuses_a_second_occasion_of_the_same_event(member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    event_registrations.register(member, first)
    with pytest.raises(RegistrationError) as error:
        event_registrations.register(member, second)
    assert error.value.code == "already_registered"


def test_a_double_click_returns_the_same_registration(member):
    occasion = factories.event().occasions.get()
    first = event_registrations.register(member, occasion)
    second = event_registrations.register(member, occasion)
    assert first.pk == second.pk
    assert Registration.objects.count() == 1


# --- seats and quotas -----------------------------------------------------------------------


def test_register_confirms_while_seats_are_free_then_waitlists_as_full(aarhus, odense):
    occasion = factories.event(capacities=(2,)).occasions.get()
    people = _members(aarhus, 2) + _members(odense, 1)
    results = [event_registrations.register(person, occasion) for person in people]
    assert [r.status for r in results] == [CONFIRMED, CONFIRMED, WAITLISTED]
    assert results[2].wait_reason == Registration.WaitReason.FULL


def test_organization_quota_spans_all_occasions(aarhus, odense):
    event = factories.event(capacities=(28, 28, 28), quota=4)
    occasions = list(event.occasions.all())
    people = _members(aarhus, 5)
    for index, person in enumerate(people[:4]):
        assert event_registrations.register(person, occasions[index % 3]).status == CONFIRMED
    fifth = event_registrations.register(people[4], occasions[2])
    assert fifth.status == WAITLISTED
    assert fifth.wait_reason == Registration.WaitReason.QUOTA
    # Another organization is not affected.
    assert event_registrations.register(_members(odense, 1)[0], occasions[2]).status == CONFIRMED
    assert selectors.organization_seats_left(event, aarhus.pk) == 0
    assert selectors.organization_seats_left(event, odense.pk) == 3


def test_unverified_members_wait_until_an_organizer_verifies_them(
    unverified_member, organizer, django_capture_on_commit_callbacks
):
    occasion = factories.event(quota=4).occasions.get()
    registration = event_registrations.register(unverified_member, occasion)
    assert registration.status == WAITLISTED
    assert registration.wait_reason == Registration.WaitReason.UNVERIFIED

    # Verification promotes the waiting registration once it is committed.
    with django_capture_on_commit_callbacks(execute=True):
        member_services.verify_membership(unverified_member, organizer)
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_unverified_members_take_free_seats_when_the_event_has_no_quota(unverified_member):
    occasion = factories.event(quota=None).occasions.get()
    assert event_registrations.register(unverified_member, occasion).status == CONFIRMED


def test_after_the_release_date_unused_organization_seats_go_to_anyone(aarhus):
    now = timezone.now()
    event = factories.event(capacities=(6,), quota=2, release_at=now + dt.timedelta(days=5))
    occasion = event.occasions.get()
    people = _members(aarhus, 4)
    statuses = [event_registrations.register(person, occasion).status for person in people]
    assert statuses == [CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED]

    promoted = event_registrations.promote_waitlist(event, at=now + dt.timedelta(days=6))
    assert [r.user for r in promoted] == people[2:]
    assert selectors.organization_seats_left(event, aarhus.pk, at=now + dt.timedelta(days=6)) is None


# --- cancel and promotion -------------------------------------------------------------------


def test_cancel_promotes_first_waitlisted_that_fits_quota(aarhus, odense):
    event = factories.event(capacities=(3,), quota=2)
    occasion = event.occasions.get()
    a1, a2, a3 = _members(aarhus, 3, "a")
    (o1,) = _members(odense, 1, "o")
    for person in (a1, a2, o1):
        assert event_registrations.register(person, occasion).status == CONFIRMED
    waiting_a3 = event_registrations.register(a3, occasion)  # full, and Aarhus's quota used
    late_o = make_member("late@odense.dk", odense)
    waiting_late_o = event_registrations.register(late_o, occasion)

    # Odense's seat frees: a3 is first in line but Aarhus's quota is still used; late_o fits.
    o1_registration = Registration.objects.get(user=o1)
    promoted = event_registrations.cancel(o1_registration, actor=o1)
    assert promoted == [waiting_late_o]
    waiting_a3.refresh_from_db()
    assert waiting_a3.status == WAITLISTED
    assert waiting_a3.wait_reason == Registration.WaitReason.QUOTA
    assert RegistrationLog.objects.filter(registration=waiting_late_o, action="promoted").exists()


def test_cancel_promotes_in_first_come_order(aarhus):
    occasion = factories.event(capacities=(1,)).occasions.get()
    first, second, third = _members(aarhus, 3)
    holder = event_registrations.register(first, occasion)
    event_registrations.register(second, occasion)
    event_registrations.register(third, occasion)
    promoted = event_registrations.cancel(holder, actor=first)
    assert [r.user for r in promoted] == [second]


def test_fair_policy_lets_organizations_without_a_seat_go_first(aarhus, odense):
    occasion = factories.event(capacities=(2,), policy=Event.WaitlistPolicy.FAIR).occasions.get()
    a1, a2, a3 = _members(aarhus, 3, "a")
    (o1,) = _members(odense, 1, "o")
    event_registrations.register(a1, occasion)
    event_registrations.register(a2, occasion)
    event_registrations.register(a3, occasion)  # waiting, earlier
    event_registrations.register(o1, occasion)  # waiting, later, but Odense has no seat
    promoted = event_registrations.cancel(Registration.objects.get(user=a2), actor=a2)
    assert [r.user for r in promoted] == [o1]


def test_cancelling_a_place_on_the_waiting_list_promotes_nobody(aarhus):
    occasion = factories.event(capacities=(1,)).occasions.get()
    first, second = _members(aarhus, 2)
    event_registrations.register(first, occasion)
    waiting = event_registrations.register(second, occasion)
    assert event_registrations.cancel(waiting, actor=second) == []
    assert Registration.objects.get(user=first).status == CONFIRMED


def test_members_cancel_until_the_deadline_organizers_any_time(member, organizer):
    now = timezone.now()
    event = factories.event(cancellation_deadline=now - dt.timedelta(hours=1))
    registration = Registration.objects.create(
        user=member,
        event=event,
        occasion=event.occasions.get(),
        organization=member.organization,
        status=CONFIRMED,
    )
    with pytest.raises(RegistrationError) as error:
        event_registrations.cancel(registration, actor=member)
    assert error.value.code == "deadline"
    event_registrations.cancel(registration, actor=organizer)
    registration.refresh_from_db()
    assert registration.status == CANCELLED


def test_cancel_twice_is_harmless(member):
    occasion = factories.event().occasions.get()
    registration = event_registrations.register(member, occasion)
    event_registrations.cancel(registration, actor=member)
    assert event_registrations.cancel(registration, actor=member) == []
    assert RegistrationLog.objects.filter(action="cancelled").count() == 1


def test_after_cancelling_a_member_may_register_again(member):
    occasion = factories.event().occasions.get()
    event_registrations.cancel(event_registrations.register(member, occasion), actor=member)
    assert event_registrations.register(member, occasion).status == CONFIRMED


def test_another_member_may_not_cancel_my_registration(member, other_member):
    registration = event_registrations.register(member, factories.event().occasions.get())
    with pytest.raises(RegistrationError) as error:
        event_registrations.cancel(registration, actor=other_member)
    assert error.value.code == "forbidden"


# --- move -----------------------------------------------------------------------------------


def test_move_switches_occasion_and_frees_the_old_seat(aarhus, odense):
    event = factories.event(capacities=(1, 1))
    first, second = event.occasions.all()
    (a1,) = _members(aarhus, 1)
    (o1,) = _members(odense, 1)
    registration = event_registrations.register(a1, first)
    waiting = event_registrations.register(o1, first)
    event_registrations.move(registration, second, actor=a1)
    registration.refresh_from_db()
    waiting.refresh_from_db()
    assert (registration.occasion, registration.status) == (second, CONFIRMED)
    assert waiting.status == CONFIRMED


def test_move_keeps_the_old_seat_when_the_new_occasion_is_full(aarhus, odense):
    event = factories.event(capacities=(1, 1))
    first, second = event.occasions.all()
    (a1,) = _members(aarhus, 1)
    (o1,) = _members(odense, 1)
    event_registrations.register(o1, second)
    registration = event_registrations.register(a1, first)
    with pytest.raises(RegistrationError) as error:
        event_registrations.move(registration, second, actor=a1)
    assert error.value.code == "no_seat"
    registration.refresh_from_db()
    assert (registration.occasion, registration.status) == (first, CONFIRMED)


def test_move_within_the_quota_does_not_count_the_seat_twice(aarhus):
    event = factories.event(capacities=(5, 5), quota=1)
    first, second = event.occasions.all()
    (a1,) = _members(aarhus, 1)
    registration = event_registrations.register(a1, first)
    event_registrations.move(registration, second, actor=a1)
    registration.refresh_from_db()
    assert (registration.occasion, registration.status) == (second, CONFIRMED)


def test_move_refuses_an_occasion_of_another_event(member):
    registration = event_registrations.register(member, factories.event().occasions.get())
    with pytest.raises(RegistrationError) as error:
        event_registrations.move(registration, factories.event().occasions.get(), actor=member)
    assert error.value.code == "other_event"


# --- overrides, coordinators, positions -----------------------------------------------------


def test_organizer_confirms_over_quota_and_it_is_logged(aarhus, organizer):
    occasion = factories.event(capacities=(5,), quota=1).occasions.get()
    a1, a2 = _members(aarhus, 2)
    event_registrations.register(a1, occasion)
    waiting = event_registrations.register(a2, occasion)
    event_registrations.confirm_over_quota(waiting, organizer=organizer)
    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED and waiting.over_quota
    assert RegistrationLog.objects.get(registration=waiting, action="overridden").actor == organizer


def test_override_never_exceeds_the_seats(aarhus, organizer):
    occasion = factories.event(capacities=(1,), quota=1).occasions.get()
    a1, a2 = _members(aarhus, 2)
    event_registrations.register(a1, occasion)
    waiting = event_registrations.register(a2, occasion)
    with pytest.raises(RegistrationError) as error:
        event_registrations.confirm_over_quota(waiting, organizer=organizer)
    assert error.value.code == "full"


def test_members_may_not_override(member, colleague):
    occasion = factories.event(capacities=(5,), quota=1).occasions.get()
    event_registrations.register(member, occasion)
    waiting = event_registrations.register(colleague, occasion)
    with pytest.raises(RegistrationError):
        event_registrations.confirm_over_quota(waiting, organizer=member)


def test_a_coordinator_registers_and_cancels_verified_colleagues(member, colleague, other_member):
    member.is_organization_coordinator = True
    member.save()
    occasion = factories.event().occasions.get()
    registration = event_registrations.register(colleague, occasion, actor=member)
    assert registration.status == CONFIRMED
    event_registrations.cancel(registration, actor=member)
    with pytest.raises(RegistrationError):
        event_registrations.register(other_member, occasion, actor=member)


def test_waitlist_position_follows_the_queue(aarhus):
    occasion = factories.event(capacities=(1,)).occasions.get()
    people = _members(aarhus, 4)
    registrations = [event_registrations.register(person, occasion) for person in people]
    assert [selectors.waitlist_position(r) for r in registrations] == [None, 1, 2, 3]
    event_registrations.cancel(registrations[1], actor=people[1])
    registrations[3].refresh_from_db()
    assert selectors.waitlist_position(registrations[3]) == 2


def test_the_database_refuses_two_active_registrations_for_one_event(member):
    from django.db import IntegrityError, transaction

    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    event_registrations.register(member, first)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            user=member, event=event, occasion=second, organization=member.organization, status=WAITLISTED
        )


def test_the_periodic_promotion_releases_organization_seats_after_the_release_date(aarhus):
    from django.core.management import call_command

    event = factories.event(capacities=(5,), quota=1, release_at=timezone.now() - dt.timedelta(minutes=1))
    # Registered while the quota still applied: waiting for the organization's seat.
    a1, a2 = _members(aarhus, 2)
    event_registrations.register(a1, event.occasions.get(), at=timezone.now() - dt.timedelta(hours=1))
    waiting = event_registrations.register(
        a2, event.occasions.get(), at=timezone.now() - dt.timedelta(hours=1)
    )
    assert waiting.status == WAITLISTED
    call_command("promote_waitlists")
    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED


def test_organizer_group_gives_what_organizers_need_and_no_more(db):
    from members.services import ensure_organizer_group

    group = ensure_organizer_group()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_registration", "add_event", "change_user", "view_user"} <= codenames
    assert "delete_user" not in codenames and "add_user" not in codenames


def test_waitlist_position_follows_the_fair_order(aarhus, odense):
    occasion = factories.event(capacities=(1,), policy=Event.WaitlistPolicy.FAIR).occasions.get()
    a1, a2 = _members(aarhus, 2, "a")
    (o1,) = _members(odense, 1, "o")
    event_registrations.register(a1, occasion)
    earlier = event_registrations.register(a2, occasion)  # Aarhus has a seat already
    later = event_registrations.register(o1, occasion)  # Odense has none: goes first
    assert (selectors.waitlist_position(later), selectors.waitlist_position(earlier)) == (1, 2)
