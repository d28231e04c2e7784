"""A sender's marks: on PostgreSQL a newsletter batch commits each "sent" mark on a connection of
its own while the next message goes out, without waiting for the disk; a mark that fails leaves
its message claimed and given back, never lost. Elsewhere each mark runs at once, in order."""

import threading

import pytest
from django.core import mail
from django.db import DatabaseError, connection

from mail import claims
from newsletters import delivery
from newsletters.models import Delivery
from tests.newsletters.editions import delivery_statuses, make_edition, make_subscriber, start_sending

Status = Delivery.Status


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the marks behind the sending need PostgreSQL")


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def _backend_pid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    return connection.connection.get_backend_pid()


@pytest.fixture(autouse=True)
def batches_by_hand(monkeypatch):
    # Outside a test's transaction "send now" would start and send at once (tasks run inline):
    # the tests call the batch themselves.
    monkeypatch.setattr(delivery, "publish_start", lambda: True)
    monkeypatch.setattr(delivery, "_publish_batches", lambda edition_id, count: None)


def _edition(count: int):
    for n in range(count):
        make_subscriber(f"reader{n}@example.org")
    return start_sending(make_edition())


def _recording_marks(monkeypatch) -> list[dict]:
    seen = []
    original = delivery._mark_sent

    def mark(pk):
        pid = _backend_pid()
        seen.append(
            {
                "pk": pk,
                "thread": threading.current_thread().name,
                "pid": pid,
                "synchronous_commit": _setting("synchronous_commit") if pid else None,
            }
        )
        original(pk)

    monkeypatch.setattr(delivery, "_mark_sent", mark)
    return seen


def test_a_batch_marks_on_a_connection_of_its_own_without_waiting_for_the_disk(
    postgresql, transactional_db, monkeypatch
):
    edition = _edition(5)
    seen = _recording_marks(monkeypatch)
    main_pid = _backend_pid()

    result = delivery.send_batch(edition.pk, 10)

    assert result.sent == 5 and len(mail.outbox) == 5
    assert set(delivery_statuses(edition).values()) == {Status.SENT}
    assert [mark["pk"] for mark in seen] == sorted(mark["pk"] for mark in seen)
    assert {mark["thread"].startswith("mail-marks") for mark in seen} == {True}
    assert {mark["pid"] for mark in seen} != {main_pid} and len({mark["pid"] for mark in seen}) == 1
    assert {mark["synchronous_commit"] for mark in seen} == {"off"}
    # The batch's own connection is back to waiting for the disk, and the marks' one is closed.
    assert _setting("synchronous_commit") == "on"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [seen[0]["pid"]])
        assert cursor.fetchone()[0] == 0


def test_a_failed_mark_leaves_its_message_claimed_and_given_back(postgresql, transactional_db, monkeypatch):
    edition = _edition(5)
    deliveries = list(Delivery.objects.filter(edition=edition).order_by("pk"))
    broken = deliveries[2].pk
    original = delivery._mark_sent

    def mark(pk):
        if pk == broken:
            raise DatabaseError("the database went away")
        original(pk)

    monkeypatch.setattr(delivery, "_mark_sent", mark)

    with pytest.raises(DatabaseError):
        delivery.send_batch(edition.pk, 10)

    statuses = dict(Delivery.objects.filter(edition=edition).values_list("pk", "status"))
    # The two before it are sent; the broken one and the one whose message went out while its
    # mark was failing are given back (sent again later: the stated window of two), the rest
    # were never sent and wait too. Nothing is lost, nothing stays claimed.
    assert [statuses[d.pk] for d in deliveries] == [Status.SENT, Status.SENT] + [Status.PENDING] * 3
    assert len(mail.outbox) == 4


def test_inside_a_transaction_each_mark_runs_at_once_on_the_same_connection(db, monkeypatch):
    edition = _edition(3)
    seen = _recording_marks(monkeypatch)
    main_pid = _backend_pid()

    delivery.send_batch(edition.pk, 10)

    assert set(delivery_statuses(edition).values()) == {Status.SENT}
    assert {mark["thread"] for mark in seen} == {threading.current_thread().name}
    if main_pid is not None:
        assert {mark["pid"] for mark in seen} == {main_pid}
        # A test's transaction is left as it was: its commit would be the caller's.
        assert {mark["synchronous_commit"] for mark in seen} == {"on"}


def test_marks_behind_report_only_what_committed(postgresql, transactional_db):
    committed_in_order = []

    def mark(pk):
        if pk == 3:
            raise DatabaseError("refused")
        committed_in_order.append(pk)

    marks = claims.MarksBehind(mark)
    marks.add(1)
    marks.add(2)
    marks.add(3)
    with pytest.raises(DatabaseError):
        marks.add(4)  # waits for 3 first, and says that it failed
    marks.close()
    assert marks.committed == {1, 2}
    assert committed_in_order == [1, 2]
