"""Registration changes are rate-limited, and notices that cancel each other out are not sent
(hole 9 of issue 8: 25 register-and-cancel cycles in 3.5 s queued 49 emails with attachments
to one member)."""

import datetime as dt
import time
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from events.errors import RegistrationError
from events.models import Registration, RegistrationLog
from events.services import registrations as event_registrations
from events.services import throttle
from mail import publishing, sending
from mail import services as outbox
from mail.models import OutgoingMessage
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")
LIMIT = 10  # the default REGISTRATION_RATE_LIMIT
TOO_MANY = "Too many registration changes in a short time. Please try again in 10 minutes."


def _cycle(client, event) -> tuple[int, int]:
    """Register and cancel through the pages, as the reproduction did. Returns both statuses."""
    registered = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    registration = Registration.objects.filter(event=event).order_by("-pk").first()
    if registered.status_code != 302:
        return registered.status_code, 0
    cancelled = client.post(reverse("events:cancel", args=[registration.pk]))
    return registered.status_code, cancelled.status_code


def _queued(member) -> int:
    """Messages to the member that are or will be sent."""
    return (
        OutgoingMessage.objects.filter(recipient=member.email)
        .exclude(status=OutgoingMessage.Status.WITHDRAWN)
        .count()
    )


def test_the_reproduction_is_stopped_by_the_limit_with_a_message(client, member):
    event = factories.event()
    client.force_login(member)
    statuses = [_cycle(client, event) for _ in range(25)]
    # Ten changes (five cycles) go through; from the eleventh on, the member is asked to wait.
    assert statuses[:5] == [(302, 302)] * 5
    assert statuses[5:] == [(429, 0)] * 20
    refused = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    assert refused.status_code == 429 and TOO_MANY in refused.text
    # Sent one by one (the broker was up): a confirmation and a cancellation per cycle, no more.
    assert len(mail.outbox) == 10 and _queued(member) == 10


def test_the_reproduction_queues_nothing_while_the_notices_are_still_unsent(client, member):
    publishing._broker_down_until = time.monotonic() + 600  # a busy or absent broker: rows wait
    event = factories.event()
    client.force_login(member)
    for _ in range(25):
        _cycle(client, event)
    # Each cancellation withdrew the confirmation nobody had received, and needed no notice itself.
    assert _queued(member) == 0
    assert OutgoingMessage.objects.filter(status=OutgoingMessage.Status.WITHDRAWN).count() == 5


def test_a_refused_cancellation_says_why_and_keeps_the_registration(client, member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    client.force_login(member)
    registration = event_registrations.register(member, first)
    for index in range(LIMIT - 1):
        event_registrations.move(registration, second if index % 2 == 0 else first, actor=member)
    response = client.post(reverse("events:cancel", args=[registration.pk]), follow=True)
    assert TOO_MANY in response.text
    registration.refresh_from_db()
    assert registration.is_active


def test_changes_count_for_the_member_whoever_makes_them(member, colleague):
    colleague.is_organization_coordinator = True
    colleague.save(update_fields=["is_organization_coordinator"])
    events = [factories.event() for _ in range(LIMIT + 1)]
    for event in events[:5]:
        event_registrations.register(member, event.occasions.get())
    for event in events[5:LIMIT]:
        event_registrations.register(member, event.occasions.get(), actor=colleague)  # the coordinator
    with pytest.raises(RegistrationError) as refused:
        event_registrations.register(member, events[LIMIT].occasions.get())
    assert refused.value.code == "rate_limited"


def test_a_coordinator_is_limited_across_colleagues(member, colleague, aarhus):
    from tests.conftest import make_member

    member.is_organization_coordinator = True
    member.save(update_fields=["is_organization_coordinator"])
    others = [make_member(f"planner{n}@aarhus.dk", aarhus) for n in range(3)]
    event = factories.event(capacities=(50,))
    occasion = event.occasions.get()
    changes = 0
    for person in [colleague, *others]:
        for _ in range(2):  # register and cancel, twice per colleague would be 16
            if changes == LIMIT:
                break
            registration = event_registrations.register(person, occasion, actor=member)
            event_registrations.cancel(registration, actor=member)
            changes += 2
    assert changes == LIMIT
    # A fresh colleague has made no change, but the coordinator has made ten.
    fresh = others[-1]
    assert not Registration.objects.filter(user=fresh).exists()
    with pytest.raises(RegistrationError) as refused:
        event_registrations.register(fresh, occasion, actor=member)
    assert refused.value.code == "rate_limited"
    event_registrations.register(fresh, occasion)  # their own change is theirs to make


def test_organizers_are_not_limited(member, organizer):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    registration = event_registrations.register(member, first)
    for index in range(LIMIT + 5):
        event_registrations.move(registration, second if index % 2 == 0 else first, actor=organizer)
    event_registrations.cancel(registration, actor=organizer)


def test_the_window_slides(member, monkeypatch, settings):
    settings.REGISTRATION_RATE_LIMIT, settings.REGISTRATION_RATE_WINDOW = 2, 600
    event = factories.event()
    occasion = event.occasions.get()
    start = timezone.now()
    event_registrations.cancel(event_registrations.register(member, occasion), actor=member)
    monkeypatch.setattr(throttle, "timezone", SimpleNamespace(now=lambda: start + dt.timedelta(seconds=599)))
    with pytest.raises(RegistrationError, match="try again in 1 minute"):
        event_registrations.register(member, occasion)
    monkeypatch.setattr(throttle, "timezone", SimpleNamespace(now=lambda: start + dt.timedelta(seconds=601)))
    assert event_registrations.register(member, occasion).is_active


def test_a_limit_of_zero_turns_it_off(member, settings):
    settings.REGISTRATION_RATE_LIMIT = 0
    occasion = factories.event().occasions.get()
    for _ in range(LIMIT + 1):
        event_registrations.cancel(event_registrations.register(member, occasion), actor=member)


def test_an_account_erasure_cancels_everything_at_once(member):
    registrations = [
        event_registrations.register(member, factories.event().occasions.get()) for _ in range(LIMIT)
    ]
    for registration in registrations:
        event_registrations.cancel(registration, actor=member, limit_rate=False)
    assert not Registration.objects.active().filter(user=member).exists()


# --- notices that cancel each other out ------------------------------------------------------


def _notices(registration) -> list[OutgoingMessage]:
    keys = [f"registration-log:{pk}" for pk in registration.log.values_list("pk", flat=True)]
    return list(OutgoingMessage.objects.filter(idempotency_key__in=keys).order_by("pk"))


def test_register_and_cancel_before_sending_queues_nothing(member):
    registration = event_registrations.register(member, factories.event().occasions.get())
    event_registrations.cancel(registration, actor=member)
    assert [notice.status for notice in _notices(registration)] == [OutgoingMessage.Status.WITHDRAWN]
    assert _queued(member) == 0


def test_a_cancellation_after_the_confirmation_was_sent_is_sent(member):
    registration = event_registrations.register(member, factories.event().occasions.get())
    (confirmation,) = _notices(registration)
    assert sending.deliver(confirmation.pk)
    event_registrations.cancel(registration, actor=member)
    statuses = [(notice.kind, notice.status) for notice in _notices(registration)]
    assert statuses == [
        ("registration_confirmed", OutgoingMessage.Status.SENT),
        ("registration_cancelled", OutgoingMessage.Status.PENDING),
    ]


def test_a_move_and_a_move_back_before_sending_queue_one_notice_of_the_end_state(member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    registration = event_registrations.register(member, first)
    event_registrations.move(registration, second, actor=member)
    event_registrations.move(registration, first, actor=member)
    pending = [notice for notice in _notices(registration) if notice.status == OutgoingMessage.Status.PENDING]
    assert len(pending) == 1 and len(_notices(registration)) == 3
    # The first news the member gets: a confirmation of the first occasion, not "you moved".
    assert pending[0].kind == "registration_confirmed"
    # Rendered when sent, from the registration as it is then.
    assert sending.deliver(pending[0].pk)
    pending[0].refresh_from_db()
    assert first.display_label in pending[0].body_text
    assert pending[0].subject.startswith("Registration confirmed:")
    assert "You have moved your registration" not in pending[0].body_text


def test_withdraw_pending_leaves_claimed_and_sent_messages_alone(member):
    def message(key, status):
        created = outbox.enqueue(
            key=key, kind="test", recipient=member.email, subject="S", text="T", html="H"
        )
        OutgoingMessage.objects.filter(pk=created.pk).update(status=status)
        return created

    Status = OutgoingMessage.Status
    message("a", Status.PENDING)
    message("b", Status.SENDING)
    message("c", Status.SENT)
    assert outbox.withdraw_pending(["a", "b", "c", "unknown"]) == 1
    assert dict(OutgoingMessage.objects.values_list("idempotency_key", "status")) == {
        "a": Status.WITHDRAWN,
        "b": Status.SENDING,
        "c": Status.SENT,
    }
    assert outbox.withdraw_pending([]) == 0


def test_a_change_counts_in_its_own_transaction(member, settings):
    """Counted where it is recorded, the change's log entry: before any commit hook runs, and
    not at all when the change rolls back."""
    settings.REGISTRATION_RATE_LIMIT = 1
    occasion = factories.event().occasions.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        event_registrations.register(member, occasion)
        raise RuntimeError("the request fails after the change")
    with TestCase.captureOnCommitCallbacks(execute=False):
        registration = event_registrations.register(member, occasion)
        with pytest.raises(RegistrationError, match="Too many registration changes"):
            event_registrations.cancel(registration, actor=member)
    assert registration.log.get().counted


def test_the_count_survives_the_cache(member):
    """A database cache culls a third of its entries past MAX_ENTRIES (a rush of a few hundred
    members reaches that), and any cache can be emptied or fail: neither lifts the limit."""
    event = factories.event()
    registration = None
    for _ in range(LIMIT // 2):
        registration = event_registrations.register(member, event.occasions.get())
        event_registrations.cancel(registration, actor=member)
    cache.clear()
    with pytest.raises(RegistrationError) as refused:
        event_registrations.register(member, event.occasions.get())
    assert refused.value.code == "rate_limited"


def test_changes_by_organizers_and_promotions_are_not_counted(member, colleague, organizer, settings):
    settings.REGISTRATION_RATE_LIMIT = 2
    event = factories.event(capacities=(1, 5))
    first, second = event.occasions.all()
    seated = event_registrations.register(colleague, first)
    waiting = event_registrations.register(member, first)
    event_registrations.move(seated, second, actor=organizer)  # promotes the member
    event_registrations.cancel(seated, actor=organizer)
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    counted = RegistrationLog.objects.filter(counted=True)
    assert sorted(counted.values_list("actor__email", flat=True)) == sorted([colleague.email, member.email])
    event_registrations.move(waiting, second, actor=member)  # the member's second change
    with pytest.raises(RegistrationError, match="Too many registration changes"):
        event_registrations.cancel(waiting, actor=member)


def test_a_coordinator_over_the_limit_for_a_member_is_told_the_later_time(member, colleague, settings):
    settings.REGISTRATION_RATE_LIMIT, settings.REGISTRATION_RATE_WINDOW = 2, 600
    colleague.is_organization_coordinator = True
    colleague.save(update_fields=["is_organization_coordinator"])
    assert member.pk < colleague.pk  # the member's own time, the earlier one, is looked at first
    registration = event_registrations.register(member, factories.event().occasions.get())
    event_registrations.cancel(registration, actor=member)
    RegistrationLog.objects.update(at=timezone.now() - dt.timedelta(seconds=590))  # free in a minute
    # The coordinator's own two changes, just now: free in ten minutes.
    own = event_registrations.register(colleague, factories.event().occasions.get())
    event_registrations.cancel(own, actor=colleague)
    with pytest.raises(RegistrationError, match="try again in 10 minutes"):
        event_registrations.register(member, factories.event().occasions.get(), actor=colleague)
