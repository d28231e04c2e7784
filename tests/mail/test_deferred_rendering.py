"""Rendering after the lock: a change writes a small outbox row in its transaction, and the worker
renders the message when it sends it, from the database as it is then. Sending to every
participant of an event is a fixed number of queries however many there are."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Registration
from events.services import lifecycle, registrations
from mail import retention, sending, tasks
from mail import services as outbox
from mail.models import OutgoingMessage
from members.models import User
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")
Status = OutgoingMessage.Status


@pytest.fixture
def renders(monkeypatch):
    """Every template rendering of an email, by kind."""
    calls = []
    original = outbox.render

    def counting(template, context, language):
        calls.append(template)
        return original(template, context, language)

    monkeypatch.setattr(outbox, "render", counting)
    return calls


def _mail_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


def test_registering_writes_the_notice_without_rendering_it(
    member, renders, django_capture_on_commit_callbacks
):
    occasion = factories.event(title="Charging meeting").occasions.get()
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        registration = registrations.register(member, occasion)
    assert renders == []  # nothing rendered inside the transaction that holds the event's lock
    message = OutgoingMessage.objects.get(user=member)
    assert message.kind == "registration_confirmed" and message.status == Status.PENDING
    assert message.about["registration_log"] and message.team_id == occasion.event.team_id
    assert (message.subject, message.body_text, message.body_html, message.attachments) == ("", "", "", [])

    for hook in hooks:  # the commit: the send task runs
        hook()
    assert renders == ["registration_confirmed"]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.subject == "Registration confirmed: Charging meeting"
    assert "<html" in message.body_html and occasion.online_url in message.body_text
    (sent,) = _mail_to(member)
    filename, content, mimetype = sent.attachments[0]
    assert filename.endswith(".ics") and mimetype.startswith("text/calendar")
    assert f"registration-{registration.pk}-part-1@" in content and "STATUS:CONFIRMED" in content


def test_a_notice_reads_the_database_as_it_is_when_it_is_sent(member, django_capture_on_commit_callbacks):
    event = factories.event(title="Charging meeting")
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        registrations.register(member, event.occasions.get())
    # An organizer renames the event before the worker gets to the confirmation.
    Event.objects.filter(pk=event.pk).update(title="Charging and parking")
    for hook in hooks:
        hook()
    assert [message.subject for message in _mail_to(member)] == [
        "Registration confirmed: Charging and parking"
    ]


def test_a_cancellation_while_the_worker_holds_the_confirmation_sends_neither(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    """The member cancels after the worker claimed the confirmation but before it rendered it:
    the confirmation is no longer true, and a cancellation of a registration the member never
    heard of would only confuse. Nothing is sent."""
    occasion = factories.event().occasions.get()
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        registration = registrations.register(member, occasion)
    confirmation = OutgoingMessage.objects.get(user=member)
    render = sending._render_deferred
    cancelled = []

    def cancel_first(message):
        if message.pk == confirmation.pk and not cancelled:
            # The cancellation's send task runs after this worker is done with the confirmation.
            with django_capture_on_commit_callbacks(execute=False) as later:
                registrations.cancel(registration, actor=member)
            cancelled.extend(later)
        return render(message)

    monkeypatch.setattr(sending, "_render_deferred", cancel_first)
    for hook in hooks:
        hook()
    for hook in cancelled:
        hook()
    assert cancelled and mail.outbox == []
    notices = {message.kind: message for message in OutgoingMessage.objects.filter(user=member)}
    assert set(notices) == {"registration_confirmed", "registration_cancelled"}
    assert {message.status for message in notices.values()} == {Status.WITHDRAWN}
    assert "changed" in notices["registration_confirmed"].last_error
    assert "never told" in notices["registration_cancelled"].last_error


def test_a_confirmation_waiting_when_the_event_is_cancelled_gives_way_to_the_cancellation(
    member, organizer, django_capture_on_commit_callbacks
):
    event = factories.event(title="Charging meeting")
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        registrations.register(member, event.occasions.get())
        lifecycle.cancel_event(event, organizer=organizer)
    for hook in hooks:
        hook()
    (sent,) = _mail_to(member)
    assert sent.subject.startswith("Cancelled:") and "STATUS:CANCELLED" in sent.attachments[0][1]
    confirmation = OutgoingMessage.objects.get(user=member, kind="registration_confirmed")
    assert confirmation.status == Status.WITHDRAWN and "cancelled" in confirmation.last_error


def test_a_reminder_for_a_seat_given_up_since_is_withdrawn(member, django_capture_on_commit_callbacks):
    occasion = factories.event().occasions.get()
    with django_capture_on_commit_callbacks(execute=True):
        registration = registrations.register(member, occasion)
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        outbox.defer(
            key="reminder:test",
            kind="reminder",
            recipient=member.email,
            user=member,
            about={"registration": registration.pk, "days": 1},
        )
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.CANCELLED)
    mail.outbox.clear()
    for hook in hooks:
        hook()
    assert mail.outbox == []
    assert OutgoingMessage.objects.get(kind="reminder").status == Status.WITHDRAWN


def _participants(event, count: int, organization) -> None:
    occasion = event.occasions.get()
    users = User.objects.bulk_create(
        User(email=f"p{event.pk}-{n}@aarhus.dk", full_name=f"Person {n}", organization=organization)
        for n in range(count)
    )
    Registration.objects.bulk_create(
        Registration(
            user=user,
            event=event,
            occasion=occasion,
            organization=organization,
            status=Registration.Status.CONFIRMED,
            confirmed_at=timezone.now(),
        )
        for user in users
    )


@pytest.fixture
def sqlite_variables(monkeypatch):
    """SQLite since 3.32 takes 32766 variables per statement; Django 5.2 still assumes the old
    999 and splits a bulk INSERT of more than about 35 outbox rows (Django 6 reads the real
    limit). PostgreSQL has no such split."""
    if connection.vendor == "sqlite":
        monkeypatch.setattr(connection.features, "max_query_params", 32766)


def _queries_to_cancel(member, organizer, count: int, hooks) -> int:
    event = factories.event(capacities=(count,))
    _participants(event, count, member.organization)
    with CaptureQueriesContext(connection) as queries, hooks(execute=False):
        assert lifecycle.cancel_event(event, organizer=organizer) == count
    return len(queries)


def test_cancelling_an_event_is_the_same_number_of_queries_for_1_and_for_50_participants(
    member, organizer, sqlite_variables, django_capture_on_commit_callbacks
):
    one = _queries_to_cancel(member, organizer, 1, django_capture_on_commit_callbacks)
    fifty = _queries_to_cancel(member, organizer, 50, django_capture_on_commit_callbacks)
    assert one == fifty
    assert OutgoingMessage.objects.filter(kind="event_cancelled", body_html="").count() == 51


def _queries_to_message(member, organizer, count: int, hooks) -> int:
    event = factories.event(capacities=(count,))
    _participants(event, count, member.organization)
    with CaptureQueriesContext(connection) as queries, hooks(execute=False):
        written = lifecycle.message_participants(
            event, subject="Room 2", body="We meet in room 2.", organizer=organizer
        )
    assert written == count
    return len(queries)


def test_messaging_participants_is_the_same_number_of_queries_for_1_and_for_50(
    member, organizer, sqlite_variables, django_capture_on_commit_callbacks
):
    one = _queries_to_message(member, organizer, 1, django_capture_on_commit_callbacks)
    fifty = _queries_to_message(member, organizer, 50, django_capture_on_commit_callbacks)
    assert one == fifty


def test_a_message_to_many_is_published_as_one_task_and_each_copy_sent(
    member, organizer, sqlite_variables, monkeypatch, django_capture_on_commit_callbacks
):
    event = factories.event(capacities=(30,))
    _participants(event, 30, member.organization)
    batches = []
    original = tasks.publish_messages.delay
    monkeypatch.setattr(tasks.publish_messages, "delay", lambda keys: batches.append(keys) or original(keys))
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.message_participants(
            event, subject="Room 2", body="We meet in **room 2**.", organizer=organizer
        )
    assert len(batches) == 1 and len(batches[0]) == 30
    assert len([message for message in mail.outbox if message.subject == "Room 2"]) == 30
    assert OutgoingMessage.objects.filter(kind="organizer_message", status=Status.SENT).count() == 30


def test_a_message_to_many_waits_for_the_sweep_while_the_broker_is_down(
    member, organizer, monkeypatch, django_capture_on_commit_callbacks
):
    event = factories.event(capacities=(3,))
    _participants(event, 3, member.organization)

    def down(keys):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.publish_messages, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.cancel_event(event, organizer=organizer) == 3  # the cancellation stands
    assert OutgoingMessage.objects.filter(status=Status.PENDING, published_at=None).count() == 3
    monkeypatch.undo()
    assert sending.sweep() == 3 and len(mail.outbox) == 3


def test_admin_and_data_download_show_a_message_not_rendered_yet_by_its_kind(
    client, superuser, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        registrations.register(member, factories.event().occasions.get())
    message = OutgoingMessage.objects.get(user=member)
    client.force_login(superuser)
    changelist = client.get(reverse("admin:outbox_outgoingmessage_changelist"))
    assert changelist.status_code == 200 and member.email in changelist.content.decode()
    assert "Registration confirmed" in changelist.content.decode()
    assert client.get(reverse("admin:outbox_outgoingmessage_change", args=[message.pk])).status_code == 200
    (exported,) = retention.export_for_user(member)
    assert exported["subject"] == "Registration confirmed" and exported["status"] == Status.PENDING


def test_a_database_error_while_rendering_gives_the_message_back_for_a_retry(member, monkeypatch):
    from django.db import OperationalError

    registrations.register(member, factories.event().occasions.get())
    message = OutgoingMessage.objects.get(user=member)

    def database_gone(message):
        raise OperationalError("server closed the connection")

    monkeypatch.setitem(sending._renderers, "registration_confirmed", database_gone)
    with pytest.raises(sending.TransientSendError):
        sending.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1 and "closed" in message.last_error


def test_retention_removes_what_an_organizers_message_was_about(member, organizer, settings):
    event = factories.event()
    _participants(event, 1, member.organization)
    lifecycle.message_participants(event, subject="Room 2", body="Private words.", organizer=organizer)
    message = OutgoingMessage.objects.get(kind="organizer_message")
    assert sending.deliver(message.pk)
    later = timezone.now() + timezone.timedelta(days=settings.OUTBOX_RETENTION_DAYS + 1)
    assert retention.remove_old_bodies(at=later) == 1
    message.refresh_from_db()
    assert message.about is None and "Private words." not in message.body_text


def test_a_deferred_message_is_one_insert_and_is_published_once_after_the_commit(
    member, django_capture_on_commit_callbacks, monkeypatch
):
    """What a change under a lock writes to the outbox: one statement that reads nothing; after
    the commit the worker's publisher is woken, and no statement runs (each one was a round trip
    in every registration of a rush). A second defer of the same key neither writes a second row
    nor wakes the publisher again."""
    from mail import publishing

    handed = []

    def hand_to_broker(task_name, *args, retrying=False):
        handed.append((task_name, *args))
        return True

    monkeypatch.setattr(publishing, "hand_to_broker", hand_to_broker)
    arguments = {
        "key": "test:one",
        "kind": "registration_confirmed",
        "recipient": member.email,
        "about": {},
        "user": member,
        "language": "en",
    }
    with django_capture_on_commit_callbacks() as callbacks:
        with CaptureQueriesContext(connection) as queries:
            outbox.defer(**arguments)
        written = [query["sql"] for query in queries.captured_queries]
        assert len(written) == 1 and written[0].startswith("INSERT"), written
    assert handed == []  # not before the commit
    (message,) = OutgoingMessage.objects.filter(idempotency_key="test:one")
    assert message.published_at is None  # the publisher's to publish
    with CaptureQueriesContext(connection) as after_commit:
        for callback in callbacks:
            callback()
    assert handed == [("mail.tasks.publish_written",)]
    assert after_commit.captured_queries == []
    with django_capture_on_commit_callbacks(execute=True):
        outbox.defer(**{**arguments, "recipient": "someone.else@example.org"})
    assert OutgoingMessage.objects.filter(idempotency_key="test:one").count() == 1
    assert OutgoingMessage.objects.get(pk=message.pk).recipient == member.email
    assert len(handed) == 1


def test_a_deferred_message_the_broker_refuses_is_left_unpublished_for_the_sweep(
    member, django_capture_on_commit_callbacks, monkeypatch
):
    from mail import publishing

    monkeypatch.setattr(publishing, "hand_to_broker", lambda task_name, *args, retrying=False: False)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.defer(key="test:refused", kind="registration_confirmed", recipient=member.email, about={})
    message = OutgoingMessage.objects.get(idempotency_key="test:refused")
    assert message.published_at is None and message.status == Status.PENDING


def test_a_deferred_message_is_written_unpublished_while_the_broker_is_presumed_down(
    member, django_capture_on_commit_callbacks, monkeypatch
):
    from mail import publishing

    monkeypatch.setattr(publishing, "broker_presumed_down", lambda: True)
    monkeypatch.setattr(publishing, "hand_to_broker", lambda *args, **kwargs: pytest.fail("handed over"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox.defer(key="test:down", kind="registration_confirmed", recipient=member.email, about={})
    assert callbacks == []
    assert OutgoingMessage.objects.get(idempotency_key="test:down").published_at is None


def test_a_publisher_leaves_a_message_another_publisher_marked_meanwhile(member, monkeypatch):
    """The woken publisher and a batch task of defer_many (or the sweep) may read the same
    unpublished row: only the one that marks it publishes its send."""
    from mail import publishing

    handed = []
    monkeypatch.setattr(
        publishing, "hand_to_broker", lambda task_name, *args, retrying=False: handed.append(args) or True
    )
    outbox.defer(key="test:raced", kind="registration_confirmed", recipient=member.email, about={})
    message = OutgoingMessage.objects.get(idempotency_key="test:raced")
    OutgoingMessage.objects.filter(pk=message.pk).update(published_at=timezone.now())  # the other one
    assert outbox.publish(message.pk, retrying=True, if_unpublished=True)
    assert handed == []
    assert outbox.publish(message.pk, retrying=True)  # the sweep's republish marks it again
    assert handed == [(message.pk,)]
