"""The organizers' administration: themes, series, speakers, events with their occasions and
programme. The pages of one event and the actions on events are in admin_event_actions,
registrations in admin_registrations.

State changes only through events.services. The actions call it once per object, report each
refusal with the service's own message, and add an entry to Django's admin log next to the one
the service writes to the registration's log.
"""

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, OuterRef, Sum
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.queries import count_per_row

from . import admin_views, uploads
from .admin_attendance import AttendancePages
from .admin_dashboard import EventDashboard
from .admin_evaluations import EventEvaluations
from .admin_event_actions import EventActions, EventPages
from .admin_event_page import EventPageAdmin, OccasionInlineForm
from .admin_messages import EventMessages
from .admin_publishing import EventPublishing
from .admin_schedule import COPY_FIELD
from .admin_scoping import TeamScopedAdmin, VisibleRelatedFilter
from .admin_views import (
    AgendaItemFormSet,
    DayPartFormSet,
    EventAdminForm,
    OccasionAdminForm,
    OccasionFormSet,
)
from .admin_widgets import LocalDatesAdmin
from .models import (
    AgendaItem,
    ContactPerson,
    DayPart,
    Document,
    Event,
    Occasion,
    Registration,
    Series,
    Speaker,
    Theme,
)
from .services import lifecycle

CONFIRMED = Registration.Status.CONFIRMED
WAITLISTED = Registration.Status.WAITLISTED
# Meeting links and documents are on HTTPS; Django 6 makes it the default for a bare host name.
HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}


class DocumentInline(admin.TabularInline):
    model = Document
    fields = ["title", "file", "url", "added_at"]
    readonly_fields = ["added_at"]
    extra = 0
    # Uploads are checked by Document.clean (events.uploads); the widget links to the served file.
    formfield_overrides = {**HTTPS_LINKS, models.FileField: {"widget": uploads.DocumentFileWidget}}


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "name_da", "name_sv", "slug", "colour"]
    search_fields = ["name", "name_da", "name_sv", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ContactPerson)
class ContactPersonAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "organization"]
    search_fields = ["name", "email", "organization"]


@admin.register(Series)
class SeriesAdmin(TeamScopedAdmin, admin.ModelAdmin):
    team_path = "team"
    list_display = ["title", "organizing_bodies", "team", "event_count"]
    search_fields = ["title", "summary", "organizing_bodies"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["contacts"]
    inlines = [DocumentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(event_count=Count("events"))

    @admin.display(description=_("events"), ordering="event_count")
    def event_count(self, series):
        return series.event_count


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name", "organization"]


# ---------------------------------------------------------------------------------------------
# Events and their occasions


def _report_schedule_change(request, model_admin: admin.ModelAdmin, change: lifecycle.ScheduleChange) -> None:
    admin_views.report_promoted(request, model_admin, change.promoted)
    notified = change.notified
    if notified:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d participant is told about the change.",
                "%(count)d participants are told about the change.",
                notified,
            )
            % {"count": notified},
            messages.INFO,
        )


# The inlines of the event page are django-nested-admin's (their templates in
# templates/nesting/admin/inlines/ show `add_label`, a whole translatable phrase, as the link
# that adds a row: "Add another %(verbose_name)s" cannot be said right in Danish or Swedish).


class DayPartInline(LocalDatesAdmin, TeamScopedAdmin, nested_admin.NestedTabularInline):
    model = DayPart
    formset = DayPartFormSet
    team_path = "occasion__event__team"
    fields = ["number", "starts_at", "ends_at"]
    # One empty row per occasion: without JavaScript it is how a day part is added.
    extra = 1
    add_label = _("Add a day part")

    class Media:
        js = ["admin/events/day_parts.js"]


class OccasionInline(TeamScopedAdmin, nested_admin.NestedStackedInline):
    model = Occasion
    formset = OccasionFormSet
    team_path = "event__team"
    form = OccasionInlineForm
    fields = [
        ("label", "capacity", "seats_taken"),
        ("venue", "online_url"),
        "address",
        ("starts_at", "ends_at"),
        COPY_FIELD,
    ]
    readonly_fields = ["seats_taken", "starts_at", "ends_at"]
    show_change_link = True
    inlines = [DayPartInline]
    formfield_overrides = {
        **HTTPS_LINKS,
        # Two lines hold a street address; the default ten make one occasion fill the screen.
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})},
    }
    add_label = _("Add an occasion")

    def get_extra(self, request, obj=None, **kwargs):
        # A new event starts with one occasion (and in it one day part); an event that has
        # occasions gets more through "Add an occasion".
        return 1 if obj is None or not obj.occasions.exists() else 0

    def no_script_add_url(self, event) -> str:
        # Without JavaScript "Add an occasion" opens the occasion's own page for this event,
        # which returns here once saved.
        if event is None or event.pk is None:
            return ""
        return f"{reverse('admin:events_occasion_add')}?event={event.pk}"

    def get_queryset(self, request):
        return super().get_queryset(request).with_seats()

    @admin.display(description=_("confirmed / waiting"))
    def seats_taken(self, occasion):
        if occasion.pk is None:
            return "–"
        return f"{occasion.confirmed_count} / {occasion.waitlisted_count}"


class AgendaItemInline(LocalDatesAdmin, TeamScopedAdmin, nested_admin.NestedTabularInline):
    model = AgendaItem
    formset = AgendaItemFormSet
    team_path = "event__team"
    fields = ["day_part", "starts", "ends", "title", "kind", "speakers", "description"]
    autocomplete_fields = ["speakers"]
    # One empty row: without JavaScript there is no other way to add a programme item.
    extra = 1
    add_label = _("Add a programme item")
    formfield_overrides = {
        # The admin's default textarea makes every row of the programme ten lines high.
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})}
    }

    class Media:
        # Narrower rows, so that the delete column stays in a 1400 px window.
        css = {"all": ["admin/events/programme.css"]}


class EventDocumentInline(nested_admin.NestedTabularInlineMixin, DocumentInline):
    add_label = _("Add a document")
    fields = ["title", "file", "url", "for_participants", "added_at"]


def _sum_of_capacity():
    return count_per_row(Occasion.objects.filter(event=OuterRef("pk")), "event", Sum("capacity"))


def _count_of(status: str):
    return count_per_row(Registration.objects.filter(event=OuterRef("pk"), status=status), "event")


@admin.register(Event)
class EventAdmin(
    EventEvaluations,
    EventPublishing,
    EventMessages,
    EventDashboard,
    EventPages,
    EventActions,
    EventPageAdmin,
    LocalDatesAdmin,
    TeamScopedAdmin,
    nested_admin.NestedModelAdmin,
):
    team_path = "team"
    form = EventAdminForm

    class Media:
        css = {"all": ["admin/events/event_page.css"]}

    # Status and seats before the wide columns, so a 1400 px window shows them; the series is a filter.
    list_display = ["title", "starts_at", "status", "seats", "format", "main_theme", "team"]
    # Only the series and teams of the events the organizer sees.
    list_filter = [
        "status",
        "format",
        ("series", VisibleRelatedFilter),
        ("team", VisibleRelatedFilter),
        "main_theme",
    ]
    list_select_related = ["series", "team", "main_theme"]
    search_fields = ["title", "slug", "summary", "series__title"]
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["themes", "contacts"]
    readonly_fields = ["starts_at", "ends_at", "published_at", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The status changes only through the Publish and Cancel pages and actions, which go
        # through events.services (a cancellation tells everyone registered); never a field.
        return [*super().get_readonly_fields(request, obj), "status"]

    def has_delete_permission(self, request, obj=None):
        # An event people registered for is cancelled, never deleted: deleting would drop
        # their registrations without a word.
        if obj is not None and obj.registrations.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # The bulk delete would not ask has_delete_permission for each event.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    ("series", "team"),
                    ("main_theme", "format", "language"),
                    "themes",
                    "summary",
                    "description",
                    "audience",
                    "contacts",
                ]
            },
        ),
        (
            _("Registration"),
            {
                "fields": [
                    ("registration_opens_at", "registration_closes_at"),
                    "cancellation_deadline",
                    ("organization_quota", "quota_release_at"),
                    "waitlist_policy",
                    ("reminder_days", "sends_follow_up"),
                ]
            },
        ),
        (_("Status"), {"fields": ["status", ("starts_at", "ends_at"), ("published_at", "created_at")]}),
    ]
    inlines = [OccasionInline, AgendaItemInline, EventDocumentInline]
    actions = ["publish", "cancel_event", "duplicate", "write_to_participants"]

    def get_queryset(self, request):
        # Subqueries rather than joins: a join over occasions and registrations would multiply both.
        return (
            super()
            .get_queryset(request)
            .annotate(
                seats_capacity=_sum_of_capacity(),
                seats_confirmed=_count_of(CONFIRMED),
                seats_waitlisted=_count_of(WAITLISTED),
            )
        )

    @admin.display(description=_("seats"), ordering="seats_confirmed")
    def seats(self, event):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:events_event_occupancy", args=[event.pk]),
            _("%(confirmed)d of %(capacity)d, %(waiting)d waiting")
            % {
                "confirmed": event.seats_confirmed,
                "capacity": event.seats_capacity,
                "waiting": event.seats_waitlisted,
            },
        )

    def save_related(self, request, form, formsets, change):
        # The occasions and day parts (all the nested rows, and the copied day parts) are saved
        # here, after the event's own row: the service reads what participants were told
        # before they are saved and compares after.
        schedule = lifecycle.change_schedule(
            form.instance, lambda: self.save_event_page(request, form, formsets, change)
        )
        _report_schedule_change(request, self, schedule)


@admin.register(Occasion)
class OccasionAdmin(AttendancePages, LocalDatesAdmin, TeamScopedAdmin, nested_admin.NestedModelAdmin):
    team_path = "event__team"
    form = OccasionAdminForm
    list_display = [
        "__str__",
        "event",
        "starts_at",
        "ends_at",
        "capacity",
        "confirmed",
        "waitlisted",
        "attendance",
    ]
    list_filter = [("event", VisibleRelatedFilter)]
    list_select_related = ["event"]
    search_fields = ["label", "venue", "event__title"]
    autocomplete_fields = ["event"]
    fields = ["event", "label", "capacity", "venue", "address", "online_url", ("starts_at", "ends_at")]
    readonly_fields = ["starts_at", "ends_at"]
    inlines = [DayPartInline]
    formfield_overrides = HTTPS_LINKS

    def get_queryset(self, request):
        return super().get_queryset(request).with_seats()

    def get_readonly_fields(self, request, obj=None):
        # Registrations carry their occasion's event; moving an occasion would split the two.
        return [*self.readonly_fields, "event"] if obj else self.readonly_fields

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, occasion):
        return occasion.confirmed_count

    @admin.display(description=_("waiting"), ordering="waitlisted_count")
    def waitlisted(self, occasion):
        return occasion.waitlisted_count

    @admin.display(description=_("attendance"))
    def attendance(self, occasion):
        url = reverse(f"{self.admin_site.name}:events_occasion_attendance", args=[occasion.pk])
        return format_html('<a href="{}">{}</a>', url, _("Attendance list"))

    def save_model(self, request, obj, form, change):
        # Saved in save_related together with its day parts, so that the service can read the
        # schedule participants were told before any of it changes.
        pass

    def save_related(self, request, form, formsets, change):
        occasion = form.instance

        def save():
            occasion.save()
            super(OccasionAdmin, self).save_related(request, form, formsets, change)

        _report_schedule_change(request, self, lifecycle.change_schedule(occasion.event, save))

    def response_post_save_add(self, request, obj):
        return self._back_to_event(request, obj) or super().response_post_save_add(request, obj)

    def response_post_save_change(self, request, obj):
        return self._back_to_event(request, obj) or super().response_post_save_change(request, obj)

    def _back_to_event(self, request, occasion):
        # The event's page is where occasions are planned; this page is reached from links.
        event_admin = self.admin_site.get_model_admin(Event)
        if not event_admin.has_change_permission(request, occasion.event):
            return None
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:events_event_change", args=[occasion.event_id])
        )

    def delete_model(self, request, obj):
        event = obj.event
        super().delete_model(request, obj)
        lifecycle.refresh_schedule(event)

    def delete_queryset(self, request, queryset):
        events = list(Event.objects.filter(occasions__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for event in events:
            lifecycle.refresh_schedule(event)


# Registrations have an admin of their own module (events/admin_registrations.py).
from . import admin_registrations  # noqa: E402, F401
