"""Query helpers every app's admin uses for its list columns."""

from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce


def count_per_row(rows: QuerySet, parent: str, aggregate=None) -> Coalesce:
    """An annotation: `aggregate` (by default the number) of `rows` for each row of the outer
    query. `rows` filters on OuterRef("pk") through the field `parent`.

    A subquery per row rather than a join: a list that annotates two related tables through
    joins would multiply one by the other, and the page stays one query however many rows.
    """
    total = (
        rows.order_by()
        .values(parent)
        .annotate(total=aggregate if aggregate is not None else Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)
