"""The event page: one change form that holds the whole event, its occasions with their day
parts nested inside each (django-nested-admin), the programme and the documents.

Everything on it is validated together and saved in one submit: the programme is checked
against the day parts as posted (events.admin_schedule), and an occasion may ask for copies of
the day parts of the occasion above, which events.services.lifecycle makes inside the same
schedule change that tells participants.
"""

from __future__ import annotations

import nested_admin
from django import forms
from django.contrib.admin.utils import flatten
from django.utils.translation import gettext_lazy as _

from . import admin_schedule
from .admin_views import AgendaItemFormSet, OccasionAdminForm
from .models import Occasion
from .services import lifecycle


class OccasionInlineForm(OccasionAdminForm):
    """An occasion row of the event page, which can take its day parts from the row above."""

    copy_day_parts_days = forms.IntegerField(
        label=_("Copy the day parts of the occasion above, shifted by (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_(
            "Leave this occasion's day parts empty: they are copied from the occasion above, "
            "this many days later, when you save. E.g. 7 for the same time a week later."
        ),
    )


def _occasion_formset(formsets):
    return next((formset for formset in formsets if formset.model is Occasion), None)


class EventPageInlineFormset(nested_admin.NestedInlineAdminFormset):
    @property
    def add_link(self) -> str:
        """Where the inline's "Add …" link leads without JavaScript (with it, a row is added in
        place): the inline's `no_script_add_url(obj)`, or nowhere."""
        url_for = getattr(self.opts, "no_script_add_url", None)
        return url_for(self.obj) if url_for is not None else ""


class EventPageAdmin:
    """For the EventAdmin (a nested_admin.NestedModelAdmin): the whole event on one page."""

    inline_admin_formset_helper_cls = EventPageInlineFormset

    def get_fieldsets(self, request, obj=None):
        # A new event is always a draft, published later through lifecycle.publish_event; the
        # status part of the form (the status, the dates the day parts give, the publication
        # date) shows only once the event exists.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        return [(name, options) for name, options in fieldsets if "status" not in flatten(options["fields"])]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # django-nested-admin's override takes `obj` third; Django's callers (and the mixins
        # above) pass add, change, form_url and obj by position.
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def _create_formsets(self, request, obj, change):
        # Django builds the formsets of the page here and validates them all in one go; the
        # programme's are told where the occasion rows (and, nested in them, the day parts
        # as posted) are, so that it checks against those instead of the saved ones.
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        occasions = _occasion_formset(formsets)
        for formset in formsets:
            if isinstance(formset, AgendaItemFormSet):
                formset.occasion_formset = occasions
        return formsets, inline_instances

    def save_formset(self, request, form, formset, change):
        parent = getattr(formset, "parent_form", None)
        parent_formset = getattr(parent, "parent_formset", None)
        if parent_formset is not None and parent_formset._should_delete_form(parent):
            # The day parts of a deleted occasion went with it; saving a changed one would
            # point at a row that no longer exists. The change message reads these lists.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)

    def save_event_page(self, request, form, formsets, change) -> None:
        """Save the rows of the page and the day parts occasions copy from the one above. Called
        inside lifecycle.change_schedule, which compares the schedule before and after."""
        occasions = _occasion_formset(formsets)
        plans = admin_schedule.planned_occasions(occasions) if occasions is not None else []
        super().save_related(request, form, formsets, change)
        for plan in plans:
            if plan.copied_from:
                lifecycle.copy_day_parts(plan.form.instance, plan.copied_from, days=plan.copy_days)
