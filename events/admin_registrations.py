"""The organizers' administration of registrations: filters, the log, actions that go through
events.services (confirm over quota, cancel, move, attendance), exports and the print list."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import admin_views, selectors
from .admin_network import NetworkPages
from .admin_scoping import TeamScopedAdmin, VisibleRelatedFilter, may_see_needs
from .admin_views import MoveForm
from .errors import RegistrationError
from .models import (
    Occasion,
    Registration,
    RegistrationLog,
)
from .services import attendance, erasure
from .services import registrations as event_registrations

CONFIRMED = Registration.Status.CONFIRMED
WAITLISTED = Registration.Status.WAITLISTED


class OccasionFilter(admin.SimpleListFilter):
    """Occasions of the events the user sees, with their event in one query, narrowed to the
    event chosen in its filter."""

    title = _("occasion")
    parameter_name = "occasion"

    def lookups(self, request, model_admin):
        occasions = (
            Occasion.objects.visible_to(request.user)
            .select_related("event")
            .order_by("event__starts_at", "starts_at", "pk")
        )
        event_id = request.GET.get("event__id__exact", "")
        if event_id.isdigit():
            occasions = occasions.filter(event_id=event_id)
        return [(occasion.pk, str(occasion)) for occasion in occasions]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        # A hand-edited query string must not become a 500.
        return queryset.filter(occasion_id=int(value)) if value.isdigit() else queryset.none()


class OrganizationKindFilter(admin.ChoicesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("organization kind")


class RegistrationLogInline(TeamScopedAdmin, admin.TabularInline):
    model = RegistrationLog
    team_path = "registration__event__team"
    fields = ["at", "action", "actor", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(NetworkPages, TeamScopedAdmin, admin.ModelAdmin):
    team_path = "event__team"
    list_display = [
        "user_name",
        "user_email",
        "organization",
        "occasion",
        "status",
        "wait_reason",
        "created_at",
        "over_quota",
        "attended",
    ]
    list_filter = [
        ("event", VisibleRelatedFilter),
        OccasionFilter,
        "status",
        # Only organizations with registrations: the full list has over 400.
        ("organization", admin.RelatedOnlyFieldListFilter),
        ("organization__kind", OrganizationKindFilter),
        "organization__country",
        "attended",
    ]
    list_select_related = ["user", "organization", "occasion__event"]
    search_fields = ["user__email", "user__full_name", "organization__name"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("user", "organization"),
                    ("event", "occasion"),
                    ("status", "wait_reason", "waitlist_position"),
                    ("over_quota", "attended"),
                ]
            },
        ),
        # See get_fieldsets.
        (_("Needs and consent"), {"fields": ["diet", "accessibility", "needs_erased_on", "listed"]}),
        (_("Dates"), {"fields": [("created_at", "queued_at"), ("confirmed_at", "cancelled_at")]}),
    ]
    # Only events.services changes who holds which seat; here organizers edit what the member
    # told them, and change state through the actions.
    readonly_fields = [
        "user",
        "organization",
        "event",
        "occasion",
        "status",
        "wait_reason",
        "waitlist_position",
        "needs_erased_on",
        "over_quota",
        "attended",
        "created_at",
        "queued_at",
        "confirmed_at",
        "cancelled_at",
    ]
    inlines = [RegistrationLogInline]
    actions = [
        "confirm_over_quota",
        "cancel_registrations",
        "mark_attended",
        "mark_not_attended",
        "move_to_occasion",
        "export_csv",
        "export_xlsx",
        "print_participant_list",
    ]

    _NEEDS = ("diet", "accessibility")

    def get_fieldsets(self, request, obj=None):
        # Needs are special-category data: only the event's own team sees (and edits) them.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and may_see_needs(request.user, obj.event):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self._NEEDS]})
            for name, options in fieldsets
        ]

    # Registrations are made through services.register, which keeps to the registration window,
    # the profile and the quota; members and their coordinators register on the site.
    def has_add_permission(self, request):
        return False

    # Deleting would free a seat without promoting anyone and drop the registration's history.
    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("name"), ordering="user__full_name")
    def user_name(self, registration):
        if registration.user is None:
            return _("(account deleted)")
        return registration.user.full_name or registration.user.email

    @admin.display(description=_("email address"), ordering="user__email")
    def user_email(self, registration):
        return registration.user.email if registration.user else ""

    @admin.display(description=_("place on the waiting list"))
    def waitlist_position(self, registration):
        return selectors.waitlist_position(registration) or "–"

    @admin.display(description=_("needs erased on"))
    def needs_erased_on(self, registration):
        # Retention (RETENTION_NEEDS_DAYS after the event ends), so organizers know until when.
        day = erasure.needs_erasure_date(registration.event)
        return date_format(day, "DATE_FORMAT") if day else _("when the event has dates")

    # --- actions ---

    def _apply(self, request, queryset, change: Callable[[Registration], str | None]) -> int:
        """Run `change` on each registration in its own transaction, so one refusal keeps the
        rest; `change` returns the admin-log message, or None when it left the registration."""
        done = 0
        for registration in queryset.select_related("user", "occasion__event"):
            try:
                log_message = change(registration)
            except RegistrationError as error:
                self.message_user(
                    request,
                    _("%(registration)s: %(error)s") % {"registration": registration, "error": error.message},
                    messages.WARNING,
                )
                continue
            if log_message is not None:
                self.log_change(request, registration, log_message)
                done += 1
        return done

    def _report(self, request, done: int, message: str) -> None:
        if done:
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Confirm over quota"), permissions=["change"])
    def confirm_over_quota(self, request, queryset):
        def change(registration):
            event_registrations.confirm_over_quota(registration, organizer=request.user)
            return _("Confirmed over quota.")

        done = self._apply(request, queryset, change)
        self._report(
            request,
            done,
            ngettext(
                "Confirmed %(count)d registration over quota.",
                "Confirmed %(count)d registrations over quota.",
                done,
            ),
        )

    @admin.action(description=_("Cancel registrations"), permissions=["change"])
    def cancel_registrations(self, request, queryset):
        promoted = []

        def change(registration):
            if not registration.is_active:
                self.message_user(
                    request,
                    _("%(registration)s: already cancelled.") % {"registration": registration},
                    messages.WARNING,
                )
                return None
            promoted.extend(event_registrations.cancel(registration, actor=request.user))
            return _("Cancelled.")

        done = self._apply(request, queryset, change)
        self._report(
            request,
            done,
            ngettext("Cancelled %(count)d registration.", "Cancelled %(count)d registrations.", done),
        )
        admin_views.report_promoted(request, self, len(promoted))

    def _record_attendance(self, request, queryset, attended: bool) -> int:
        def change(registration):
            if not attendance.record_one(registration, attended, organizer=request.user):
                return None
            return _("Marked as attended.") if attended else _("Marked as not attended.")

        return self._apply(request, queryset, change)

    @admin.action(description=_("Mark attended"), permissions=["change"])
    def mark_attended(self, request, queryset):
        done = self._record_attendance(request, queryset, True)
        self._report(
            request,
            done,
            ngettext(
                "Marked %(count)d participant as attended.",
                "Marked %(count)d participants as attended.",
                done,
            ),
        )

    @admin.action(description=_("Mark not attended"), permissions=["change"])
    def mark_not_attended(self, request, queryset):
        done = self._record_attendance(request, queryset, False)
        self._report(
            request,
            done,
            ngettext(
                "Marked %(count)d participant as not attended.",
                "Marked %(count)d participants as not attended.",
                done,
            ),
        )

    @admin.action(description=_("Move to another occasion"), permissions=["change"])
    def move_to_occasion(self, request, queryset):
        registrations = list(queryset.select_related("user", "occasion__event"))
        if len({registration.event_id for registration in registrations}) != 1:
            self.message_user(request, _("Select registrations of one event to move them."), messages.ERROR)
            return None
        event = registrations[0].occasion.event
        current = {registration.occasion_id for registration in registrations}
        form_kwargs = {"event": event, "current": current}
        form = MoveForm(request.POST if "apply" in request.POST else None, **form_kwargs)
        if form.is_valid():
            target = form.cleaned_data["occasion"]

            def change(registration):
                if registration.occasion_id == target.pk:
                    return None
                event_registrations.move(registration, target, actor=request.user)
                return _("Moved to %(occasion)s.") % {"occasion": target.label or target}

            done = self._apply(request, queryset, change)
            self._report(
                request,
                done,
                ngettext("Moved %(count)d registration.", "Moved %(count)d registrations.", done),
            )
            return None
        if not form.fields["occasion"].queryset.exists():
            self.message_user(request, _("This event has no other occasion."), messages.ERROR)
            return None
        return admin_views.intermediate_page(
            request,
            self,
            template="admin/events/registration/move.html",
            title=_("Move to another occasion"),
            queryset=registrations,
            action="move_to_occasion",
            form=form,
            event=event,
        )

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return admin_views.export_csv(admin_views.participants(queryset), "registrations", user=request.user)

    @admin.action(description=_("Export selected as Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return admin_views.export_xlsx(admin_views.participants(queryset), "registrations", user=request.user)

    @admin.action(description=_("Print participant list"), permissions=["view"])
    def print_participant_list(self, request, queryset):
        return admin_views.participant_list(request, self, queryset, title=_("Participant list"))
