"""Organizer teams in admin. Only superusers form teams and say who is in them: an organizer who
could add themselves to another team would see that team's participants. Organizers may look
at their own teams (who else runs their events), nothing more."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organizer_count", "event_count", "created_at"]
    search_fields = ["name"]
    fields = ["name", "members", "created_at"]
    readonly_fields = ["created_at"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        teams = super().get_queryset(request)
        if not request.user.is_superuser:
            teams = teams.of(request.user)
        return teams.annotate(
            organizer_count=Count("members", distinct=True), event_count=Count("events", distinct=True)
        )

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

    @admin.display(description=_("events"), ordering="event_count")
    def event_count(self, team):
        return team.event_count
