"""A sender's marks: on PostgreSQL a newsletter batch commits its "sent" marks in groups, in order,
on a connection of its own while the next messages go out, without waiting for the disk; a group
that fails leaves its messages claimed and given back, never lost. Elsewhere each mark runs at
once, in order."""

import threading
import time

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
    """One entry per mark, with the group it was committed in."""
    seen = []
    original = delivery._mark_sent

    def mark(pks):
        pid = _backend_pid()
        seen.extend(
            {
                "pk": pk,
                "group": tuple(pks),
                "thread": threading.current_thread().name,
                "pid": pid,
                "synchronous_commit": _setting("synchronous_commit") if pid else None,
            }
            for pk in pks
        )
        original(pks)

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


def test_a_batch_marks_in_groups_of_at_most_group(postgresql, transactional_db, monkeypatch):
    monkeypatch.setattr(claims.MarksBehind, "SECONDS", 30)  # groups close by their size alone
    edition = _edition(claims.MarksBehind.GROUP + 2)
    seen = _recording_marks(monkeypatch)

    delivery.send_batch(edition.pk, 20)

    deliveries = sorted(Delivery.objects.filter(edition=edition).values_list("pk", flat=True))
    groups = list(dict.fromkeys(mark["group"] for mark in seen))
    # One UPDATE for a full group, one for the rest, which the end of the batch commits.
    assert groups == [
        tuple(deliveries[: claims.MarksBehind.GROUP]),
        tuple(deliveries[claims.MarksBehind.GROUP :]),
    ]
    assert set(delivery_statuses(edition).values()) == {Status.SENT}


def test_a_failed_group_leaves_its_messages_claimed_and_given_back(postgresql, transactional_db, monkeypatch):
    monkeypatch.setattr(claims.MarksBehind, "GROUP", 2)
    monkeypatch.setattr(claims.MarksBehind, "SECONDS", 30)
    edition = _edition(5)
    deliveries = list(Delivery.objects.filter(edition=edition).order_by("pk"))
    broken = deliveries[2].pk
    original = delivery._mark_sent

    def mark(pks):
        if broken in pks:
            raise DatabaseError("the database went away")
        original(pks)

    monkeypatch.setattr(delivery, "_mark_sent", mark)

    with pytest.raises(DatabaseError):
        delivery.send_batch(edition.pk, 10)

    statuses = dict(Delivery.objects.filter(edition=edition).values_list("pk", "status"))
    # The first group is sent; the broken group's two and the fifth (sent or not while the
    # group was failing: nothing commits after a failure) are given back and sent again later.
    # Nothing is lost, nothing stays claimed.
    assert [statuses[d.pk] for d in deliveries] == [Status.SENT, Status.SENT] + [Status.PENDING] * 3
    assert len(mail.outbox) in (4, 5)


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

    def mark(pks):
        if 3 in pks:
            raise DatabaseError("refused")
        committed_in_order.append(pks)

    marks = claims.MarksBehind(mark, group=2, seconds=30)
    for pk in (1, 2, 3, 4):
        marks.add(pk)
    with pytest.raises(DatabaseError):
        marks.settle()  # waits for the group of 3 and 4, and says that it failed
    marks.add(5)  # nothing commits after a failure, and its error is raised once
    marks.close()
    assert marks.committed == {1, 2}
    assert committed_in_order == [[1, 2]]


def test_marks_behind_commit_in_groups_in_order(postgresql, transactional_db):
    groups = []
    marks = claims.MarksBehind(groups.append, group=3, seconds=30)
    for pk in range(1, 8):
        marks.add(pk)
    marks.settle()
    assert groups == [[1, 2, 3], [4, 5, 6], [7]]
    assert marks.committed == set(range(1, 8))
    marks.close()


def test_a_waiting_mark_commits_after_its_seconds_without_a_full_group(postgresql, transactional_db):
    committed_at = []
    marks = claims.MarksBehind(lambda pks: committed_at.append(time.monotonic()), group=100, seconds=0.2)
    added_at = time.monotonic()
    marks.add(1)
    deadline = added_at + 10
    while not marks.committed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marks.committed == {1}  # no settle, no full group: its time came
    assert committed_at[0] - added_at >= 0.2
    marks.close()


def test_marks_behind_wait_for_room_while_a_group_commits(postgresql, transactional_db):
    # A database that stalls stops the sending: never more than a group of marks waits.
    stalled, added = threading.Event(), threading.Event()
    marks = claims.MarksBehind(lambda pks: stalled.wait(timeout=30), group=2, seconds=30)
    marks.add(1)
    marks.add(2)  # a full group: its commit stalls
    third = threading.Thread(target=lambda: (marks.add(3), added.set()))
    third.start()
    assert not added.wait(timeout=0.3)
    stalled.set()
    assert added.wait(timeout=10)
    third.join()
    marks.close()
    assert marks.committed == {1, 2, 3}
