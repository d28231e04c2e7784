"""Organizer teams in the events admin: who sees which events, and whose needs.

An organizer sees and changes only what their teams own (events, series, and through the
event its occasions, programme and registrations); a superuser sees everything. The rule itself
is `events.models.team_visibility`; this module applies it to the admin:

- `get_queryset` is scoped, and Django builds every other page on it: change forms (another
  team's object is "not found"), list actions (Django filters the selected ids through
  `get_queryset`), autocomplete (it asks the related model's admin) and the event pages that
  use `get_object`;
- the choices of every foreign key to an event, series or occasion, and of the `team` field;
- participants' needs (diet, accessibility) are special-category data: `may_see_needs` decides,
  on its own, so that if who sees an event is ever widened the needs stay with the team.
"""

from __future__ import annotations

from django.contrib import admin

from members.models import Team

from .models import Event, Occasion, Series, team_visibility


def may_see_needs(user, event: Event) -> bool:
    """Only the event's own team (and superusers) see participants' dietary and accessibility
    needs: special-category data under the GDPR, needed by those who cater and host."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return event.team_id is not None and Team.objects.of(user).filter(pk=event.team_id).exists()


def needs_visibility(user):
    """`may_see_needs` for many registrations: asks once per event."""
    answers: dict[int, bool] = {}

    def visible(registration) -> bool:
        if registration.event_id not in answers:
            answers[registration.event_id] = may_see_needs(user, registration.event)
        return answers[registration.event_id]

    return visible


# The models whose choices in a form follow the same rule as their changelists.
_SCOPED_CHOICES = {
    Event: lambda user: Event.objects.visible_to(user),
    Series: lambda user: Series.objects.visible_to(user),
    Occasion: lambda user: Occasion.objects.visible_to(user),
}


def team_choices(user):
    """The teams an event or series may be given: one's own; a superuser's, all."""
    return Team.objects.all() if user.is_superuser else Team.objects.of(user)


class TeamScopedAdmin:
    """For a ModelAdmin or an inline of a model that belongs to a team through `team_path`
    ("team", "event__team", "occasion__event__team")."""

    team_path = "team"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(team_visibility(request.user, self.team_path))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        if db_field.related_model is Team:
            teams = team_choices(user)
            kwargs["queryset"] = teams
            if not user.is_superuser:
                # An event without a team would vanish from its own organizer's admin.
                kwargs["required"] = True
                only = list(teams[:2])
                if len(only) == 1:
                    kwargs["initial"] = only[0].pk
        elif db_field.related_model in _SCOPED_CHOICES:
            kwargs["queryset"] = _SCOPED_CHOICES[db_field.related_model](user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class VisibleRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """A list filter on an event or a series that offers only the ones the user may see, and
    of those only the ones the list holds."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        # A foreign key without a verbose name of its own ("event") would title the filter with
        # its untranslated field name ("By event"); the related model's name is translated.
        self.title = field.related_model._meta.verbose_name

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        listed = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        if related in _SCOPED_CHOICES:
            choices = _SCOPED_CHOICES[related](request.user)
        else:
            choices = related._default_manager.all()
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": choices.filter(pk__in=listed).values("pk")},
            ordering=self.field_admin_ordering(field, request, model_admin),
        )
