"""The organizers' tools for whole events, mixed into EventAdmin: the pages of one event
(occupancy, participant list and its CSV and Excel exports) and the actions on selected events
(publish, cancel, write to participants, duplicate). Every change goes through
events.services.lifecycle; this module words the outcome and logs it in Django's admin log."""

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import admin_views, selectors
from .admin_publishing import CancelEventForm, people_told
from .admin_views import DuplicateForm
from .errors import EventError
from .models import Event, Registration
from .services import lifecycle

# The buttons above an event's page: (URL name, label, the statuses it is offered in; None: all).
EVENT_TOOLS = [
    ("dashboard", _("Dashboard"), None),
    ("publish", _("Publish"), {Event.Status.DRAFT}),
    ("message", _("Write to participants"), {Event.Status.PUBLISHED}),
    ("copy", _("Copy as next meeting"), None),
    ("cancel", _("Cancel event"), {Event.Status.DRAFT, Event.Status.PUBLISHED}),
    ("participants", _("Participant list"), None),
    ("evaluations", _("Evaluations"), None),
]


class EventPages:
    """The pages of one event beside its change form, for organizers who see the event."""

    def event_tools(self, event: Event) -> list[dict]:
        tools = []
        for name, label, statuses in EVENT_TOOLS:
            if statuses is not None and event.status not in statuses:
                continue
            try:
                url = reverse(f"{self.admin_site.name}:events_event_{name}", args=[event.pk])
            except NoReverseMatch:
                continue
            tools.append({"name": name, "url": url, "label": label})
        return tools

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {}), "event_tools": self.event_tools(event) if event else []}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/occupancy/", view(self.occupancy_view), name=f"{name}_occupancy"),
            path("<path:object_id>/participants/", view(self.participants_view), name=f"{name}_participants"),
            path(
                "<path:object_id>/participants.csv",
                view(self.participants_csv_view),
                name=f"{name}_participants_csv",
            ),
            path(
                "<path:object_id>/participants.xlsx",
                view(self.participants_xlsx_view),
                name=f"{name}_participants_xlsx",
            ),
            *super().get_urls(),
        ]

    def _event_for_page(self, request, object_id: str, *, with_participants: bool = False) -> Event:
        # get_object reads through get_queryset: another team's event is not found.
        event = self.get_object(request, unquote(object_id))
        if event is None:
            raise Http404
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        registration_admin = self.admin_site.get_model_admin(Registration)
        if with_participants and not registration_admin.has_view_permission(request):
            raise PermissionDenied
        return event

    def _event_to_change(self, request, object_id: str) -> Event:
        """The event of a page that changes it (publish, cancel, write to participants): another
        team's event is not found, and without change permission the page is refused."""
        event = self.get_object(request, unquote(object_id))
        if event is None:
            raise Http404
        if not self.has_change_permission(request, event):
            raise PermissionDenied
        return event

    def occupancy_view(self, request, object_id):
        return admin_views.occupancy(request, self, self._event_for_page(request, object_id))

    def participants_view(self, request, object_id):
        event = self._event_for_page(request, object_id, with_participants=True)
        return admin_views.participant_list(
            request,
            self,
            event.registrations.active(),
            title=_("Participants: %(event)s") % {"event": event},
            event=event,
        )

    def participants_csv_view(self, request, object_id):
        event = self._event_for_page(request, object_id, with_participants=True)
        return admin_views.export_csv(
            admin_views.participants(event.registrations.active()), event.slug, user=request.user
        )

    def participants_xlsx_view(self, request, object_id):
        event = self._event_for_page(request, object_id, with_participants=True)
        return admin_views.export_xlsx(
            admin_views.participants(event.registrations.active()), event.slug, user=request.user
        )


class EventActions:
    """The actions on the events selected in the list."""

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish(self, request, queryset):
        published = 0
        for event in queryset:
            try:
                changed = lifecycle.publish_event(event, organizer=request.user)
            except EventError as error:
                self.message_user(request, error.message, messages.WARNING)
                continue
            if changed:
                self.log_change(request, event, _("Published."))
                published += 1
        self.message_user(
            request,
            ngettext("Published %(count)d event.", "Published %(count)d events.", published)
            % {"count": published},
            messages.SUCCESS,
        )

    @admin.action(description=_("Cancel event"), permissions=["change"])
    def cancel_event(self, request, queryset):
        # Everyone registered is written to: a confirmation step first, saying how many, with a
        # personal note for the email (the same as the event's own cancel page).
        form = CancelEventForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return admin_views.intermediate_page(
                request,
                self,
                template="admin/events/event/cancel_events.html",
                title=_("Cancel event"),
                queryset=queryset,
                action="cancel_event",
                form=form,
                people_told=people_told(selectors.people_told_of_cancellation(queryset)),
            )
        cancelled = notified = 0
        for event in queryset.exclude(status=Event.Status.CANCELLED):
            notified += lifecycle.cancel_event(event, organizer=request.user, note=form.cleaned_data["note"])
            self.log_change(request, event, _("Cancelled."))
            cancelled += 1
        self.message_user(
            request,
            ngettext(
                "Cancelled %(count)d event; %(notified)d registered people are told.",
                "Cancelled %(count)d events; %(notified)d registered people are told.",
                cancelled,
            )
            % {"count": cancelled, "notified": notified},
            messages.SUCCESS,
        )

    @admin.action(description=_("Write to participants"), permissions=["change"])
    def write_to_participants(self, request, queryset):
        # The message is written, previewed, tested and sent on the event's own page
        # (admin_messages.EventMessages).
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one event to write to."), messages.WARNING)
            return None
        return redirect(reverse(f"{self.admin_site.name}:events_event_message", args=[queryset.get().pk]))

    @admin.action(description=_("Duplicate as next meeting"), permissions=["add"])
    def duplicate(self, request, queryset):
        form = DuplicateForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            shift = dt.timedelta(days=form.cleaned_data["days"])
            for event in queryset:
                copy = lifecycle.copy_event(event, shift=shift, organizer=request.user)
                self.log_addition(request, copy, _("Duplicated from %(event)s.") % {"event": event})
                link = format_html(
                    '<a href="{}">{}</a>', reverse("admin:events_event_change", args=[copy.pk]), copy.title
                )
                self.message_user(
                    request, format_html(str(_("Created the draft {link}.")), link=link), messages.SUCCESS
                )
            return None
        return admin_views.intermediate_page(
            request,
            self,
            template="admin/events/event/duplicate.html",
            title=_("Duplicate as next meeting"),
            queryset=queryset,
            action="duplicate",
            form=form,
        )
