"""An event's dashboard and its "copy as next meeting" page, mixed into EventAdmin (after
EventPages, whose access check they use).

The dashboard shows the seats per occasion and per organization, the waiting lists with the
reason each person waits, registrations and cancellations per day, the emails about the event
and the links an organizer needs next. Everything it shows is read by events.selectors and
events.dashboard_selectors; the copy is made by events.services.lifecycle.copy_event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from . import dashboard_selectors, selectors
from .admin_views import DuplicateForm
from .errors import EventError
from .models import Registration
from .services import lifecycle

# The chart's drawing units: a day's column, the height of the tallest bar each way. The
# drawing is at least two weeks wide, so that a few days do not stretch into wide blocks.
_DAY_WIDTH = 10
_MIN_DAYS = 14
_BAR_WIDTH = 8
_HALF_HEIGHT = 60


@dataclass
class _Column:
    day: dashboard_selectors.Day
    x: int
    new_y: int
    new_height: int
    cancelled_height: int


def _timeline_chart(days: list[dashboard_selectors.Day]) -> dict | None:
    """The coordinates of the registrations-per-day chart (an SVG: the policy allows no inline
    style, and SVG attributes are not style): new registrations up from the middle line,
    cancellations down from it, both on the same scale."""
    if not days:
        return None
    peak = max(max(day.new, day.cancelled) for day in days) or 1

    def height(count: int) -> int:
        # A day with any count gets at least a visible sliver.
        return max(round(count * _HALF_HEIGHT / peak), 1) if count else 0

    columns = []
    for index, day in enumerate(days):
        new = height(day.new)
        columns.append(_Column(day, index * _DAY_WIDTH + 1, _HALF_HEIGHT - new, new, height(day.cancelled)))
    return {
        "columns": columns,
        "width": max(len(days), _MIN_DAYS) * _DAY_WIDTH,
        "height": 2 * _HALF_HEIGHT,
        "middle": _HALF_HEIGHT,
        "bar_width": _BAR_WIDTH,
        "peak": peak,
        "first": days[0].day,
        "last": days[-1].day,
        "new": sum(day.new for day in days),
        "cancelled": sum(day.cancelled for day in days),
    }


def _organization_bars(seats: selectors.EventSeats) -> list[dict]:
    """Each organization's confirmed seats, measured against its quota, or against all confirmed
    seats of the event when no quota applies."""
    scale = seats.quota if seats.quota is not None else max(seats.totals["confirmed"], 1)
    return [{**row, "scale": scale} for row in seats.organizations]


class EventDashboard:
    """The dashboard and the copy page of one event."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/dashboard/", view(self.dashboard_view), name=f"{name}_dashboard"),
            path("<path:object_id>/copy/", view(self.copy_view), name=f"{name}_copy"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request, object_id):
        event = self._event_for_page(request, object_id)
        # Seats and emails are counts; who waits is participant data.
        registration_admin = self.admin_site.get_model_admin(Registration)
        may_see_participants = registration_admin.has_view_permission(request)
        seats = selectors.event_seats(event)
        days = dashboard_selectors.registrations_per_day(event)
        return TemplateResponse(
            request,
            "admin/events/event/dashboard.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": event,
                "event": event,
                "title": _("Dashboard: %(event)s") % {"event": event},
                "seats": seats,
                "organizations": _organization_bars(seats),
                "may_see_participants": may_see_participants,
                "waiting_lists": dashboard_selectors.waiting_lists(event) if may_see_participants else [],
                "days": [day for day in days if day.new or day.cancelled],
                "chart": _timeline_chart(days),
                "emails": dashboard_selectors.email_counts(event),
                "may_copy": self.has_add_permission(request),
                "may_change": self.has_change_permission(request, event),
            },
        )

    def copy_view(self, request, object_id):
        event = self._event_for_page(request, object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DuplicateForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                copy = lifecycle.copy_event(
                    event, shift=dt.timedelta(days=form.cleaned_data["days"]), organizer=request.user
                )
            except EventError as error:
                form.add_error(None, error.message)
            else:
                self.log_addition(request, copy, _("Copied from %(event)s.") % {"event": event})
                self.message_user(
                    request,
                    format_html(
                        str(_("Created the draft {title}, a copy of {original}. Check its dates below.")),
                        title=copy.title,
                        original=event.title,
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:events_event_change", args=[copy.pk])
                )
        return TemplateResponse(
            request,
            "admin/events/event/copy.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": event,
                "event": event,
                "title": _("Copy as next meeting: %(event)s") % {"event": event},
                "form": form,
            },
        )
