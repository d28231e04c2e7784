"""The attendance list of one occasion, mixed into OccasionAdmin: printed for the door, ticked
on screen and saved at once, or filled from the online meeting tool's participant list. What
is recorded is events.services.attendance's decision; the file is read by
events.attendance_import."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import attendance_import, selectors
from .errors import RegistrationError
from .models import Occasion, Registration
from .rules import attendance_open, attendance_opens
from .services import attendance


class AttendanceForm(forms.Form):
    """The ticks of one save. `shown` names the rows the organizer saw, so a participant
    confirmed after the page was opened is not marked absent unseen."""

    shown = forms.TypedMultipleChoiceField(coerce=int, widget=forms.MultipleHiddenInput)
    attended = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, registrations: list[Registration], **kwargs):
        super().__init__(*args, **kwargs)
        # Every registration of the occasion may come back: one cancelled since is reported
        # by the service, not refused as a tampered form.
        choices = [(registration.pk, registration.pk) for registration in registrations]
        self.fields["shown"].choices = choices
        self.fields["attended"].choices = choices

    def marks(self) -> dict[int, bool]:
        attended = set(self.cleaned_data["attended"])
        return {pk: pk in attended for pk in self.cleaned_data["shown"]}


class ImportForm(forms.Form):
    participant_list = forms.FileField(
        label=gettext_lazy("Participant list from the online meeting tool (CSV)"),
        help_text=gettext_lazy(
            "Participants whose email address is in the file are ticked below; nothing is saved "
            "until you press “Save attendance”."
        ),
    )

    def clean_participant_list(self) -> set[str]:
        upload = self.cleaned_data["participant_list"]
        try:
            # One byte more than allowed is enough to refuse a larger file.
            return attendance_import.addresses_in(upload.read(attendance_import.MAX_BYTES + 1))
        except attendance_import.UnreadableList as error:
            raise forms.ValidationError(error.message) from None


class AttendancePages:
    """OccasionAdmin's attendance page: everyone who sees the occasion and its registrations
    sees the list; who may change registrations saves it."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name=f"{name}_attendance",
            ),
            *super().get_urls(),
        ]

    def attendance_view(self, request, object_id):
        occasion = self.get_object(request, unquote(object_id))
        if occasion is None:
            raise Http404
        registration_admin = self.admin_site.get_model_admin(Registration)
        if not (
            self.has_view_permission(request, occasion) and registration_admin.has_view_permission(request)
        ):
            raise PermissionDenied
        may_save = registration_admin.has_change_permission(request)
        registrations = selectors.attendance_list(occasion)
        ticked = {registration.pk for registration in registrations if registration.attended}
        import_form, not_found = ImportForm(), []
        if request.method == "POST":
            if not may_save:
                raise PermissionDenied
            if "import" in request.POST:
                import_form = ImportForm(request.POST, request.FILES)
                if import_form.is_valid():
                    ticked, not_found = self._ticked_from(request, registrations, ticked, import_form)
            else:
                form = AttendanceForm(request.POST, registrations=self._all_registrations(occasion))
                if form.is_valid():
                    self._save(request, occasion, form.marks())
                    return HttpResponseRedirect(request.path)
                self.message_user(
                    request, _("The list was not saved: reload the page and try again."), messages.ERROR
                )
        is_open = attendance_open(occasion, timezone.now())
        return TemplateResponse(
            request,
            "admin/events/occasion/attendance.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": occasion,
                "occasion": occasion,
                "event": occasion.event,
                "title": _("Attendance: %(occasion)s") % {"occasion": occasion},
                "rows": [(registration, registration.pk in ticked) for registration in registrations],
                "may_save": may_save and is_open,
                "may_import": may_save,
                "opens_on": attendance_opens(occasion) if may_save and not is_open else None,
                "import_form": import_form,
                "not_found": sorted(not_found),
                "printed_at": timezone.now(),
            },
        )

    @staticmethod
    def _all_registrations(occasion: Occasion) -> list[Registration]:
        return list(Registration.objects.filter(occasion=occasion).only("pk"))

    def _ticked_from(
        self, request, registrations, ticked: set[int], form: ImportForm
    ) -> tuple[set[int], list[str]]:
        addresses = form.cleaned_data["participant_list"]
        by_address = {
            registration.user.email.casefold(): registration.pk
            for registration in registrations
            if registration.user is not None
        }
        matched = {by_address[address] for address in addresses if address in by_address}
        self.message_user(
            request,
            ngettext(
                "%(count)d participant was found in the file and is ticked below. Check and save the list.",
                "%(count)d participants were found in the file"
                " and are ticked below. Check and save the list.",
                len(matched),
            )
            % {"count": len(matched)},
            messages.INFO if matched else messages.WARNING,
        )
        return ticked | matched, [address for address in addresses if address not in by_address]

    def _save(self, request, occasion: Occasion, marks: dict[int, bool]) -> None:
        try:
            recorded = attendance.record(occasion, marks, organizer=request.user)
        except RegistrationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        attended = sum(marks.values())
        self.log_change(
            request,
            occasion,
            _("Attendance recorded: %(attended)d of %(listed)d attended.")
            % {"attended": attended, "listed": len(marks)},
        )
        self.message_user(
            request,
            ngettext(
                "Attendance saved: %(attended)d of %(count)d participant attended.",
                "Attendance saved: %(attended)d of %(count)d participants attended.",
                len(marks),
            )
            % {"attended": attended, "count": len(marks)},
            messages.SUCCESS,
        )
        if recorded.left:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration on the list no longer has a seat and was left as it was.",
                    "%(count)d registrations on the list no longer have a seat and were left as they were.",
                    recorded.left,
                )
                % {"count": recorded.left},
                messages.WARNING,
            )
