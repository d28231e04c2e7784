"""Organizer teams in admin. Only superusers form teams and say who is in them: an organizer who
could add themselves to another team would see that team's participants. Organizers may look
at their own teams (who else runs their events), nothing more."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import Team


def _count_column(count: registry.TeamCount):
    """A list column with how many of what another app counts a team runs (members.registry)."""
    field = f"{count.relation}_count"

    @admin.display(description=count.label, ordering=field)
    def column(team):
        return getattr(team, field)

    column.__name__ = field
    return column


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organizer_count", "created_at"]
    search_fields = ["name"]
    fields = ["name", "members", "created_at"]
    readonly_fields = ["created_at"]
    filter_horizontal = ["members"]

    def get_list_display(self, request):
        name, organizers, created = self.list_display
        return [name, organizers, *(_count_column(count) for count in registry.team_counts()), created]

    def get_queryset(self, request):
        teams = super().get_queryset(request)
        if not request.user.is_superuser:
            teams = teams.of(request.user)
        counts = {
            f"{count.relation}_count": Count(count.relation, distinct=True)
            for count in registry.team_counts()
        }
        return teams.annotate(organizer_count=Count("members", distinct=True), **counts)

    # Membership decides who sees whose participants: a superuser's decision alone, whatever
    # model permissions an organizer's account was given.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("organizers"), ordering="organizer_count")
    def organizer_count(self, team):
        return team.organizer_count
