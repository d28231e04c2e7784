"""The schedule of an event as posted on its page, before anything is saved: the occasions in
the order they stand on the page and the day parts nested in each, with the day parts an
occasion copies from the one above (shifted by a number of days).

The programme is checked against this schedule, not the saved one, so that a new event, its
day parts and its programme can be written in one submit. The copying rule itself is
events.services.lifecycle's (shifted_day_parts, copy_day_parts); this module only reads the
forms, and is read by the occasion and programme formsets (events.admin_views) and the event
page (events.admin_event_page).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.translation import gettext as _

from .models import DayPart
from .services.lifecycle import DayPartTimes, shifted_day_parts

# The occasion row's field that asks for copies of the day parts of the occasion above.
COPY_FIELD = "copy_day_parts_days"


@dataclass
class PlannedOccasion:
    form: forms.ModelForm
    day_parts: list[DayPartTimes]
    # Set when the day parts are copies: the occasion above's, and by how many days they move.
    copied_from: list[DayPartTimes] = field(default_factory=list)
    copy_days: int | None = None
    copy_error: str | None = None


def _deleted(formset, form) -> bool:
    return formset.can_delete and bool(getattr(form, "cleaned_data", {}).get(DELETION_FIELD_NAME))


def _day_part_formsets(form) -> list:
    # django-nested-admin hangs the formsets of a row's nested inlines on the row's form.
    return [nested for nested in getattr(form, "nested_formsets", ()) if nested.model is DayPart]


def _day_part_rows(form) -> list[DayPartTimes]:
    """The day parts that will be saved for an occasion row: valid, not deleted, not an
    untouched extra row."""
    rows = []
    for formset in _day_part_formsets(form):
        for row in formset.forms:
            if not row.is_valid() or not row.cleaned_data or _deleted(formset, row):
                continue
            if row.instance.pk is None and not row.has_changed():
                continue
            data = row.cleaned_data
            rows.append(DayPartTimes(data["number"], data["starts_at"], data["ends_at"]))
    return rows


def _kept(formset, form) -> bool:
    """An occasion row that will be saved (valid or not yet): not deleted, and either saved
    before, changed, or holding changed day parts (django-nested-admin then saves it too)."""
    form.is_valid()  # full_clean once, for cleaned_data
    if _deleted(formset, form):
        return False
    if form.instance.pk is not None or form.has_changed():
        return True
    return any(nested.has_changed() for nested in _day_part_formsets(form))


def planned_occasions(occasion_formset) -> list[PlannedOccasion]:
    """The occasions of the page in their posted order, each with its day parts: the rows
    typed in, or the copies it asks for of the occasion above."""
    plans: list[PlannedOccasion] = []
    for form in occasion_formset.forms:
        if not _kept(occasion_formset, form):
            continue
        plan = PlannedOccasion(form=form, day_parts=_day_part_rows(form))
        days = form.cleaned_data.get(COPY_FIELD)
        if days:
            above = plans[-1] if plans else None
            if plan.day_parts:
                plan.copy_error = _(
                    "Leave the day parts of this occasion empty to copy those of the occasion above, "
                    "or empty this field."
                )
            elif above is None:
                plan.copy_error = _("There is no occasion above to copy the day parts from.")
            elif not above.day_parts:
                plan.copy_error = _("The occasion above has no day parts to copy.")
            else:
                plan.copied_from, plan.copy_days = above.day_parts, days
                plan.day_parts = shifted_day_parts(above.day_parts, days)
        plans.append(plan)
    return plans


def planned_day_parts(occasion_formset) -> list[DayPartTimes]:
    return [part for plan in planned_occasions(occasion_formset) for part in plan.day_parts]
