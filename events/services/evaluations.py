"""Evaluations: what a participant thought of an occasion, given or changed through the signed
link the follow-up email carries (events.evaluation_links).

Only a confirmed participant who was not marked absent evaluates, once per registration (a
second answer changes the first), from the occasion's day until rules.EVALUATION_DAYS after it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..errors import RegistrationError
from ..models import RATINGS, Evaluation, ItemRating, Registration
from ..rules import evaluation_closes, evaluation_open


def check_may_evaluate(registration: Registration, at: dt.datetime) -> None:
    if registration.status != Registration.Status.CONFIRMED or registration.attended is False:
        raise RegistrationError(_("Only participants of the occasion can evaluate it."), "not_participant")
    if not evaluation_open(registration.occasion, at):
        closes = evaluation_closes(registration.occasion)
        if closes is not None and at >= closes:
            raise RegistrationError(
                _("The evaluation closed on %(day)s.")
                % {"day": date_format(timezone.localdate(closes), "DATE_FORMAT")},
                "closed",
            )
        raise RegistrationError(_("The evaluation opens on the day of the occasion."), "not_open")


def may_evaluate(registration: Registration, at: dt.datetime) -> bool:
    try:
        check_may_evaluate(registration, at)
    except RegistrationError:
        return False
    return True


@transaction.atomic
def evaluate(
    registration: Registration,
    *,
    rating: int,
    item_ratings: Mapping[int, int],
    take_home: str = "",
    theme_wish: str = "",
    at: dt.datetime | None = None,
) -> Evaluation:
    """Give or change the registration's evaluation: the whole occasion's rating, the ratings of
    the programme items rated (by agenda item id; items of other events are ignored), what the
    participant takes home and a theme they wish for."""
    at = at or timezone.now()
    if any(value not in RATINGS for value in (rating, *item_ratings.values())):
        raise RegistrationError(_("Choose a rating from 1 to 5."), "rating")
    # Two submits at once (a double click) make one evaluation: the registration's row (only
    # it, not its occasion's) is the lock.
    registration = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("occasion")
        .get(pk=registration.pk)
    )
    check_may_evaluate(registration, at)
    evaluation, created = Evaluation.objects.get_or_create(
        registration=registration,
        defaults={
            "rating": rating,
            "take_home": take_home,
            "theme_wish": theme_wish,
            "created_at": at,
            "changed_at": at,
        },
    )
    if not created:
        evaluation.rating, evaluation.take_home, evaluation.theme_wish = rating, take_home, theme_wish
        evaluation.changed_at = at
        evaluation.save(update_fields=["rating", "take_home", "theme_wish", "changed_at"])
    items = set(registration.event.agenda_items.values_list("pk", flat=True))
    evaluation.item_ratings.all().delete()
    ItemRating.objects.bulk_create(
        ItemRating(evaluation=evaluation, agenda_item_id=item, rating=value)
        for item, value in sorted(item_ratings.items())
        if item in items
    )
    return evaluation
