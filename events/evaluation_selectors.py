"""What the participants of an event (or one of its occasions) answered in its evaluation, as
organizers read it: averages and the spread of every rating, and the free text without names.
Five queries whatever the number of answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q

from .models import RATINGS, Evaluation, Event, ItemRating, Occasion, Registration
from .selectors import evaluated_items


@dataclass
class Rating:
    """The answers to one question: how many gave each rating from 1 to 5."""

    label: str
    counts: dict[int, int]

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        if not self.answers:
            return None
        return round(sum(rating * count for rating, count in self.counts.items()) / self.answers, 1)

    @property
    def spread(self) -> list[tuple[int, int]]:
        """Each rating with its count, 1 to 5, those nobody gave included."""
        return [(rating, self.counts.get(rating, 0)) for rating in RATINGS]


@dataclass
class Results:
    answers: int
    participants: int  # who could answer: confirmed and not marked absent
    whole: Rating
    items: list[Rating]
    take_home: list[str]
    theme_wishes: list[str]

    @property
    def response_rate(self) -> int:
        return round(100 * self.answers / self.participants) if self.participants else 0


def results(event: Event, occasion: Occasion | None = None) -> Results:
    scope = Q(registration__event=event)
    if occasion is not None:
        scope &= Q(registration__occasion=occasion)
    evaluations = Evaluation.objects.filter(scope)
    whole = Counter(dict(evaluations.order_by().values_list("rating").annotate(count=Count("pk"))))
    per_item: dict[int, Counter] = {}
    item_rows = (
        ItemRating.objects.filter(evaluation__in=evaluations.values("pk"))
        .order_by()
        .values_list("agenda_item", "rating")
        .annotate(count=Count("pk"))
    )
    for item, rating, count in item_rows:
        per_item.setdefault(item, Counter())[rating] = count
    texts = list(evaluations.order_by("created_at", "pk").values_list("take_home", "theme_wish"))
    participants = Registration.objects.confirmed().exclude(attended=False).filter(event=event)
    if occasion is not None:
        participants = participants.filter(occasion=occasion)
    return Results(
        answers=sum(whole.values()),
        participants=participants.count(),
        whole=Rating("", dict(whole)),
        items=[Rating(item.title, dict(per_item.get(item.pk, {}))) for item in evaluated_items(event)],
        take_home=[take_home for take_home, _wish in texts if take_home],
        theme_wishes=[wish for _take_home, wish in texts if wish],
    )
