"""The rows a registration writes under the event's lock (the registration, its log entry, its
email) carry no index that another already provides: every entry is written while everyone else
in a rush waits. Nor do a newsletter's deliveries, whose rows are written again at every claim
and every "sent" mark."""

import pytest
from django.db import connection

from events.models import Registration, RegistrationLog
from mail.models import OutgoingMessage
from newsletters.models import Delivery

pytestmark = pytest.mark.django_db

WRITTEN_UNDER_THE_LOCK = [Registration, RegistrationLog, OutgoingMessage]
WRITTEN_PER_MESSAGE = [Delivery]
# The columns a LIKE (startswith) reads: only these may have PostgreSQL's second index for it.
READ_WITH_LIKE = {OutgoingMessage: {"idempotency_key"}}


def _indexes(model) -> dict[str, dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {name: index for name, index in found.items() if index["index"] or index["unique"]}


@pytest.mark.parametrize(
    "model", WRITTEN_UNDER_THE_LOCK + WRITTEN_PER_MESSAGE, ids=lambda model: model.__name__
)
def test_no_index_is_the_beginning_of_another(model):
    indexes = _indexes(model)
    plain = {name: tuple(index["columns"]) for name, index in indexes.items() if not index["unique"]}
    others = {name: tuple(index["columns"]) for name, index in indexes.items()}
    redundant = [
        (name, other)
        for name, columns in plain.items()
        for other, longer in others.items()
        if other != name
        and len(longer) > len(columns)
        and longer[: len(columns)] == columns
        # a partial index covers only its rows
        and not _partial(model, other)
    ]
    assert not redundant, redundant


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LIKE indexes are PostgreSQL's")
@pytest.mark.parametrize("model", WRITTEN_UNDER_THE_LOCK, ids=lambda model: model.__name__)
def test_only_columns_read_with_like_have_an_index_for_it(model):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%pattern_ops%%'",
            [model._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    columns = {definition.split("(", 1)[1].split()[0].strip('"') for definition in definitions}
    assert columns == READ_WITH_LIKE.get(model, set()), definitions


def _partial(model, name: str) -> bool:
    declared = [*model._meta.indexes, *model._meta.constraints]
    return any(index.name == name and getattr(index, "condition", None) is not None for index in declared)
