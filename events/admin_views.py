"""What the events admin adds to Django's: its forms, the confirmation steps of the move and
duplicate actions, seat occupancy, participant lists and exports.

Nothing here changes an event or a registration; that is events.services' job alone (copying
an event is events.services.lifecycle.copy_event).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.exports import Sheet, csv_download, xlsx_download
from members.models import User
from members.text import normalize

from . import admin_schedule, rules, selectors
from .admin_scoping import needs_visibility
from .models import DayPart, Event, Occasion, Registration, _validate_reminder_days

CONFIRMED = Registration.Status.CONFIRMED
WAITLISTED = Registration.Status.WAITLISTED


def needs_notice() -> str:
    return _(
        "Dietary and accessibility needs are special-category personal data (health, religion). "
        "Share them only with those who need them for this event (catering, the venue), keep "
        "this file no longer than the event needs it, and delete it afterwards."
    )


# ---------------------------------------------------------------------------------------------
# Forms


def _https_links(field, **kwargs):
    # Meeting links are on HTTPS; Django 6 makes it the default for a bare host name.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class OccasionAdminForm(forms.ModelForm):
    """Seats may grow at any time but never drop below the participants already confirmed."""

    class Meta:
        model = Occasion
        fields = ["event", "label", "capacity", "venue", "address", "online_url"]
        formfield_callback = _https_links

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk is None or capacity is None:
            return capacity
        # The admin validates and saves in one transaction; holding the event's row, the lock
        # events.services decides under, means no seat is given between this count and the save.
        Event.objects.select_for_update().filter(pk=self.instance.event_id).first()
        confirmed = self.instance.registrations.confirmed().count()
        if capacity < confirmed:
            raise forms.ValidationError(
                _(
                    "%(confirmed)d participants are confirmed on this occasion, so it needs at least "
                    "%(confirmed)d seats. Cancel or move registrations first."
                )
                % {"confirmed": confirmed},
                code="below_confirmed",
            )
        return capacity


class EventAdminForm(forms.ModelForm):
    audience = forms.MultipleChoiceField(
        # Django capitalises the labels it builds from a model, not a form's own.
        label=capfirst(gettext_lazy("target audience")),
        choices=User.Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Roles the event is for."),
    )
    # Typed as "7, 1" rather than the model's JSON list.
    reminder_days = forms.CharField(
        label=capfirst(gettext_lazy("reminders (days before)")),
        required=False,
        help_text=gettext_lazy(
            "Confirmed participants get a reminder this many days before their occasion, "
            "separated by commas, e.g. 7, 1. Leave empty for no reminders."
        ),
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "slug",
            "series",
            "team",
            "main_theme",
            "themes",
            "summary",
            "description",
            "audience",
            "format",
            "language",
            "contacts",
            "registration_opens_at",
            "registration_closes_at",
            "cancellation_deadline",
            "organization_quota",
            "quota_release_at",
            "waitlist_policy",
            "reminder_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = self.initial.get("reminder_days")
        if isinstance(days, list):
            self.initial["reminder_days"] = ", ".join(str(day) for day in days)

    def clean_reminder_days(self) -> list[int]:
        text = self.cleaned_data["reminder_days"]
        try:
            days = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            days = None  # not whole numbers: the model's own message says what it takes
        _validate_reminder_days(days)
        return days

    def clean_organization_quota(self):
        quota = self.cleaned_data["organization_quota"]
        if quota and self.instance.pk is not None:
            # The saved occasions; occasions changed in the same save are checked by
            # OccasionFormSet, which sees the rows as posted.
            seats = self.instance.occasions.aggregate(seats=models.Sum("capacity"))["seats"]
            if seats is not None and quota > seats:
                raise forms.ValidationError(_quota_above_seats(quota, seats), code="quota_above_seats")
        return quota


def _quota_above_seats(quota: int, seats: int) -> str:
    return rules.quota_above_seats(quota, seats).message


def _alive(formset) -> list[forms.ModelForm]:
    """The rows that will be saved: valid, not deleted, not an untouched extra row."""
    return [
        form
        for form in formset.forms
        if form.is_valid()
        and form.cleaned_data
        and not formset._should_delete_form(form)
        and (form.instance.pk is not None or form.has_changed())
    ]


class OccasionFormSet(BaseInlineFormSet):
    """The event page's occasions: the seats per organization fit in the seats of all occasions,
    and an occasion that copies the day parts of the one above has something to copy."""

    def clean(self):
        super().clean()
        for plan in admin_schedule.planned_occasions(self):
            if plan.copy_error:
                plan.form.add_error(
                    admin_schedule.COPY_FIELD, forms.ValidationError(plan.copy_error, code="nothing_to_copy")
                )
        quota = self.instance.organization_quota
        rows = _alive(self)
        if not quota or not rows:
            return
        seats = sum(form.cleaned_data["capacity"] for form in rows)
        if quota > seats:
            raise forms.ValidationError(_quota_above_seats(quota, seats), code="quota_above_seats")


class DayPartFormSet(BaseInlineFormSet):
    """An occasion's day parts (all of them are on its page): they must not overlap."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None and index >= self.initial_form_count():
            # An empty row is numbered after the occasion's saved day parts (and the rows above).
            saved = [part.number for part in self.get_queryset()]
            kwargs["initial"] = {"number": max(saved, default=0) + 1 + index - self.initial_form_count()}
        return kwargs

    def get_unique_error_message(self, unique_check):
        # Django's own ("Please correct the duplicate data for number") names the raw field.
        if "number" in unique_check:
            return _("Two day parts have the same number; number them 1, 2, 3 …")
        return super().get_unique_error_message(unique_check)

    def clean(self):
        super().clean()
        rows = sorted(_alive(self), key=lambda form: form.cleaned_data["starts_at"])
        for earlier, later in itertools.pairwise(rows):
            number, starts, ends = (earlier.cleaned_data[name] for name in ("number", "starts_at", "ends_at"))
            error = rules.day_part_overlap((number, starts, ends), later.cleaned_data["starts_at"])
            if error is not None:
                later.add_error("starts_at", error)


class AgendaItemFormSet(BaseInlineFormSet):
    """The programme: each item's day part exists on some occasion and holds the item's times.

    On the event page the day parts are those posted with it, copies included (the page sets
    `occasion_formset`), so that a new event's dates and programme are checked in the same
    submit; elsewhere the saved ones. An event without any day part yet is not checked (the
    programme may be written before the dates are known)."""

    occasion_formset = None

    def clean(self):
        super().clean()
        if self.occasion_formset is not None:
            day_parts = admin_schedule.planned_day_parts(self.occasion_formset)
        elif self.instance.pk is not None:
            day_parts = DayPart.objects.filter(occasion__event=self.instance)
        else:
            return
        windows = rules.day_part_windows(day_parts)
        if not windows:
            return
        for form in _alive(self):
            _check_agenda_item(form, windows)


def _check_agenda_item(form, windows: dict[int, list[rules.Window]]) -> None:
    cleaned = form.cleaned_data
    problem = rules.agenda_item_problem(cleaned["day_part"], cleaned["starts"], cleaned["ends"], windows)
    if problem is not None:
        form.add_error(*problem)


class MoveForm(forms.Form):
    occasion = forms.ModelChoiceField(
        label=gettext_lazy("Move to"), queryset=Occasion.objects.none(), empty_label=None
    )

    def __init__(self, *args, event: Event, current: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        occasions = event.occasions.with_seats().order_by("starts_at", "pk")
        if len(current) == 1:
            # Moving everyone to the occasion they are all on would do nothing.
            occasions = occasions.exclude(pk__in=current)
        field = self.fields["occasion"]
        field.queryset = occasions
        field.label_from_instance = _occasion_choice_label


def _occasion_choice_label(occasion: Occasion) -> str:
    free = max(occasion.capacity - occasion.confirmed_count, 0)
    return _("%(occasion)s (%(free)d of %(capacity)d seats free, %(waiting)d waiting)") % {
        "occasion": occasion.display_label,
        "free": free,
        "capacity": occasion.capacity,
        "waiting": occasion.waitlisted_count,
    }


class DuplicateForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Shift dates by (days)"),
        initial=28,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "Occasions, day parts, the registration window and the deadlines move by this many days."
        ),
    )


def intermediate_page(
    request, model_admin, *, template: str, title: str, queryset: QuerySet, action: str, **context
) -> TemplateResponse:
    """A confirmation step of an admin action: the selection travels along in hidden fields."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": title,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        },
    )


# ---------------------------------------------------------------------------------------------
# Occupancy


def occupancy(request, model_admin, event: Event) -> TemplateResponse:
    """Seats per occasion and per organization (selectors.event_seats, which the dashboard reads too)."""
    seats = selectors.event_seats(event)
    return TemplateResponse(
        request,
        "admin/events/occupancy.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "original": event,
            "event": event,
            "title": _("Seats: %(event)s") % {"event": event},
            "occasions": seats.occasions,
            "organizations": seats.organizations,
            "totals": seats.totals,
            "quota": seats.quota,
            "quota_released": seats.quota_released,
        },
    )


# ---------------------------------------------------------------------------------------------
# Participant lists and exports


def participants(registrations: QuerySet) -> QuerySet:
    """Registrations in list order (by occasion, then name) with what every column needs."""
    return registrations.select_related("user", "organization", "occasion__event").order_by(
        "occasion__event__starts_at", "occasion__starts_at", "occasion_id", "user__full_name", "user__email"
    )


def _table(registrations: Iterable[Registration], user) -> tuple[list[str], list[list[str]], bool]:
    """The header and rows of an export. The needs columns are there only when `user` may see
    the needs of some row (see admin_scoping.may_see_needs), and their headers say what they
    are; a row of an event outside the user's teams says its needs are not shown."""
    registrations = list(registrations)
    needs_shown = needs_visibility(user)
    shown = [needs_shown(registration) for registration in registrations]
    with_needs = any(shown)
    header = [_("Name"), _("Organization"), _("Role"), _("Email"), _("Occasion"), _("Status")]
    if with_needs:
        header += [
            _("Dietary needs (special-category data)"),
            _("Accessibility needs (special-category data)"),
        ]
    rows = []
    for registration, visible in zip(registrations, shown, strict=True):
        row = _row(registration)
        if with_needs:
            row += [registration.diet, registration.accessibility] if visible else [_("(not shown)")] * 2
        # Text stored before members.text's rule may still hold bidirectional overrides that
        # would reorder what a spreadsheet shows.
        rows.append([normalize(str(value)) for value in row])
    return header, rows, with_needs


def _row(registration: Registration) -> list[str]:
    user = registration.user
    return [
        user.full_name if user else _("(account deleted)"),
        registration.organization.name,
        user.get_role_display() if user else "",
        user.email if user else "",
        str(registration.occasion),
        registration.get_status_display(),
    ]


def export_csv(registrations: Iterable[Registration], stem: str, *, user) -> HttpResponse:
    header, rows, _with_needs = _table(registrations, user)
    return csv_download(header, rows, stem)


def export_xlsx(registrations: Iterable[Registration], stem: str, *, user) -> HttpResponse:
    header, rows, with_needs = _table(registrations, user)
    sheets = [Sheet(_("Participants"), header, rows)]
    if with_needs:
        # Whoever opens the file later, or receives it forwarded, reads why it needs care.
        sheets.append(Sheet(_("Data protection"), [], [[needs_notice()]]))
    return xlsx_download(sheets, stem)


def participant_list(
    request, model_admin, registrations: QuerySet, *, title: str, event: Event | None = None
) -> TemplateResponse:
    """The attendance list to print: confirmed participants, one table per occasion."""
    confirmed = list(participants(registrations.filter(status=CONFIRMED)))
    left_out = registrations.exclude(status=CONFIRMED).count()
    needs_shown = needs_visibility(request.user)
    for registration in confirmed:
        registration.needs_shown = needs_shown(registration)
    return TemplateResponse(
        request,
        "admin/events/participant_list.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "event": event,
            "title": title,
            "registrations": confirmed,
            "left_out": left_out,
            "with_needs": any(registration.needs_shown for registration in confirmed),
            "needs_notice": needs_notice(),
            "printed_at": timezone.now(),
        },
    )


def report_promoted(request, model_admin: admin.ModelAdmin, count: int) -> None:
    if count:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d registration was promoted from the waiting list.",
                "%(count)d registrations were promoted from the waiting list.",
                count,
            )
            % {"count": count},
            messages.INFO,
        )
