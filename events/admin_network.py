"""The Network page in admin, mixed into RegistrationAdmin: whom the network reached in a period
(by organization, kind and region), whom it did not, the themes by participation and reach over
the months, as tables with bars beside the numbers, and the same tables as one Excel workbook.
The figures are events.network_selectors'; an organizer sees their teams' events only."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.exports import Sheet, xlsx_download

from . import network_selectors as network
from .forms import ThemeChoiceField
from .models import Series, Theme

# The longest period the page counts: its months are drawn one column each.
MAX_YEARS = 10

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """The page's filters, sent by GET so that a view can be bookmarked and shared."""

    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_DATE)
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=_DATE)
    theme = ThemeChoiceField(
        label=gettext_lazy("Theme"),
        queryset=Theme.objects.all(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    series = forms.ModelChoiceField(
        label=gettext_lazy("Series"),
        queryset=Series.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )

    def __init__(self, data, *, viewer, today: dt.date):
        super().__init__(data)
        self.viewer = viewer
        self.default = network.Scope.default(viewer, today=today)
        self.fields["series"].queryset = Series.objects.visible_to(viewer).order_by("title")
        self.fields["start"].widget.attrs["placeholder"] = self.default.start.isoformat()
        self.fields["end"].widget.attrs["placeholder"] = self.default.end.isoformat()

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("start") or self.default.start
        end = cleaned.get("end") or self.default.end
        if "start" in cleaned and "end" in cleaned:
            if end < start:
                self.add_error("end", _("The end of the period comes before its start."))
            elif (end - start).days > 366 * MAX_YEARS:
                self.add_error("end", _("Choose a period of at most %(years)d years.") % {"years": MAX_YEARS})
        cleaned["scope"] = network.Scope(
            self.viewer, start, end, theme=cleaned.get("theme"), series=cleaned.get("series")
        )
        return cleaned


# The month chart's drawing units (an SVG: the policy allows no inline style).
_MONTH_WIDTH = 20
_BAR_WIDTH = 16
_HEIGHT = 100


def _month_chart(months: list[network.Month]) -> dict | None:
    """Organizations reached so far, one column per month, on a scale up to the last month's."""
    peak = months[-1].total if months else 0
    if not peak:
        return None
    columns = []
    for index, month in enumerate(months):
        height = round(month.total * _HEIGHT / peak) if month.total else 0
        columns.append({"x": index * _MONTH_WIDTH + 2, "y": _HEIGHT - height, "height": height})
    return {
        "columns": columns,
        "width": len(months) * _MONTH_WIDTH,
        "height": _HEIGHT,
        "bar_width": _BAR_WIDTH,
        "peak": peak,
        "first": months[0].first_day,
        "last": months[-1].first_day,
    }


def _sheets(figures: network.Reach) -> list[Sheet]:
    """Every table of the page, in the page's order, and what its figures mean."""
    scope = figures.scope
    region, kind, reached = _("Region or county"), _("Kind"), [_("Reached"), _("Of"), _("Percent")]
    period = _("Period: %(start)s – %(end)s") % {
        "start": date_format(scope.start, "SHORT_DATE_FORMAT"),
        "end": date_format(scope.end, "SHORT_DATE_FORMAT"),
    }
    organizations = [
        [row.name, row.kind_label, row.country_label, row.region]
        + [row.registrations, row.confirmed, row.attended, row.no_shows, row.waiting, row.cancelled]
        for row in figures.organizations
    ]
    not_reached = [
        [
            row.name,
            row.kind_label,
            row.region,
            timezone.localdate(row.last_reached) if row.last_reached else "",
        ]
        for row in figures.not_reached
    ]
    themes = [
        [
            row.theme.display_name,
            row.events,
            row.registrations,
            row.confirmed,
            row.attended,
            row.organizations,
        ]
        for row in figures.themes
    ]
    return [
        Sheet(
            _("Organizations"),
            [_("Organization"), kind, _("Country"), region]
            + [
                _("Registrations"),
                _("Confirmed"),
                _("Attended"),
                _("No-shows"),
                _("Waiting"),
                _("Cancelled"),
            ],
            organizations,
        ),
        Sheet(
            _("Coverage"),
            [_("Country"), kind, *reached],
            (
                [row.country_label, row.kind_label, row.reached, row.of, row.percent]
                for row in figures.coverage
            ),
        ),
        Sheet(
            _("Coverage by region"),
            [_("Country"), region, kind, *reached],
            (
                [row.country_label, row.region, row.kind_label, row.reached, row.of, row.percent]
                for row in figures.regions
            ),
        ),
        Sheet(_("Not reached"), [_("Organization"), kind, region, _("Last took part")], not_reached),
        Sheet(
            _("Themes"),
            [_("Theme"), _("Events"), _("Registrations"), _("Confirmed"), _("Attended")]
            + [_("Organizations reached")],
            themes,
        ),
        Sheet(
            _("Theme wishes"),
            [_("Wish"), _("Participants")],
            ([wish, count] for wish, count in figures.theme_wishes),
        ),
        Sheet(
            _("Reach over time"),
            [_("Month"), _("Reached for the first time"), _("Reached so far")],
            ([month.first_day, month.new, month.total] for month in figures.months),
        ),
        Sheet(_("About"), [], [[period], [network_definition()]]),
    ]


def network_definition() -> str:
    return _(
        "An organization is reached when someone from it had a seat on an occasion of the period "
        "and was not marked absent. No-shows are confirmed participants marked absent."
    )


class NetworkPages:
    """RegistrationAdmin's Network page and its Excel download, for whoever may view
    registrations; the figures cover the events of the viewer's teams."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("network/", view(self.network_view), name=f"{name}_network"),
            path("network.xlsx", view(self.network_xlsx_view), name=f"{name}_network_xlsx"),
            *super().get_urls(),
        ]

    def _form(self, request) -> PeriodForm:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return PeriodForm(request.GET or None, viewer=request.user, today=timezone.localdate())

    def network_view(self, request):
        form = self._form(request)
        figures = network.Reach(form.cleaned_data["scope"]) if form.is_bound and form.is_valid() else None
        if not form.is_bound:
            figures = network.Reach(form.default)
        query = request.GET.urlencode()
        return TemplateResponse(
            request,
            "admin/events/registration/network.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Network"),
                "form": form,
                "figures": figures,
                "chart": _month_chart(figures.months) if figures else None,
                # A theme's bar: its seats of all seats of the period (at least one, for the bar's scale).
                "seats_scale": max(figures.totals.confirmed, 1) if figures else 1,
                "definition": network_definition(),
                "xlsx_url": reverse(f"{self.admin_site.name}:events_registration_network_xlsx")
                + (f"?{query}" if query else ""),
            },
        )

    def network_xlsx_view(self, request):
        form = self._form(request)
        if form.is_bound and not form.is_valid():
            # The page shows what is wrong, next to the field.
            return self.network_view(request)
        scope = form.cleaned_data["scope"] if form.is_bound else form.default
        return xlsx_download(_sheets(network.Reach(scope)), "network")
