"""What participants thought of an occasion: one evaluation per registration, given through a
signed link after the occasion (events.evaluations) and changeable for a while after it.

Evaluations are anonymous to other members; organizers read them per occasion and event
without names. An evaluation outlives the participant's account (the registration keeps it as
an answer without a person)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.text import PersonTextModel

from .programme import AgendaItem
from .registration import Registration

RATINGS = range(1, 6)
_RATING_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
_RATING_RANGE = Q(rating__gte=1) & Q(rating__lte=5)


class Evaluation(PersonTextModel, models.Model):
    person_text_fields = ("take_home", "theme_wish")

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="evaluation", verbose_name=_("registration")
    )
    rating = models.PositiveSmallIntegerField(_("rating of the whole"), validators=_RATING_VALIDATORS)
    take_home = models.TextField(_("what I take home"), max_length=2000, blank=True)
    theme_wish = models.CharField(_("a theme for a next event"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("given"), default=timezone.now)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.CheckConstraint(
                condition=_RATING_RANGE,
                name="evaluation_rating_1_to_5",
                violation_error_message=_("Choose a rating from 1 to 5."),
            )
        ]

    def __str__(self) -> str:
        return str(_("Evaluation %(number)s") % {"number": self.pk})


class ItemRating(models.Model):
    """A rating of one programme item within an evaluation (items left unrated have none)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="item_ratings", verbose_name=_("evaluation")
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("programme item")
    )
    rating = models.PositiveSmallIntegerField(_("rating"), validators=_RATING_VALIDATORS)

    class Meta:
        verbose_name = _("rating of a programme item")
        verbose_name_plural = _("ratings of programme items")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "agenda_item"],
                name="item_rating_once_per_evaluation",
                violation_error_message=_("This programme item is rated already."),
            ),
            models.CheckConstraint(
                condition=_RATING_RANGE,
                name="item_rating_1_to_5",
                violation_error_message=_("Choose a rating from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_item}: {self.rating}"
