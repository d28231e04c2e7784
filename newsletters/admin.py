"""The organizers' administration of newsletter editions: write, preview, test, schedule or send,
and follow the progress. Every change of an edition's state goes through newsletters.delivery,
and each leaves an entry in Django's admin log. An edition can be edited only as a draft."""

from csp.decorators import csp_update
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.queries import count_per_row

from . import (
    admin_subscribers,  # noqa: F401  (registers the subscribers' admin)
    delivery,
    emails,
    rendering,
)
from .models import Delivery, Edition, Subscriber

DRAFT, SCHEDULED, SENDING, SENT = (
    Edition.Status.DRAFT,
    Edition.Status.SCHEDULED,
    Edition.Status.SENDING,
    Edition.Status.SENT,
)
CONTENT_FIELDS = [
    "subject",
    "preheader",
    "body",
    "language",
    "topics",
    "include_upcoming_events",
    "include_recent_materials",
]
STATE_FIELDS = ["status", "scheduled_at", "started_at", "sent_at", "created_by", "created_at"]


class ScheduleForm(forms.Form):
    # The browser's own date and time picker: no admin JavaScript needed.
    at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("In the portal's time zone."),
    )

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."), code="in_the_past")
        return at


def _count_of(*statuses: str):
    return count_per_row(Delivery.objects.filter(edition=OuterRef("pk"), status__in=statuses), "edition")


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "status",
        "scheduled_at",
        "sent_at",
        "sent_count",
        "failed_count",
        "remaining_count",
    ]
    list_filter = ["status"]
    search_fields = ["subject", "preheader"]
    filter_horizontal = ["topics"]
    readonly_fields = STATE_FIELDS

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": CONTENT_FIELDS})]
        if obj is not None:
            fieldsets.append((_("Sending"), {"fields": STATE_FIELDS}))
        return fieldsets

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(
                sent_count=_count_of(Delivery.Status.SENT),
                failed_count=_count_of(Delivery.Status.FAILED),
                remaining_count=_count_of(Delivery.Status.PENDING, Delivery.Status.SENDING),
            )
        )

    @admin.display(description=gettext_lazy("sent"), ordering="sent_count")
    def sent_count(self, edition):
        return edition.sent_count

    @admin.display(description=gettext_lazy("failed"), ordering="failed_count")
    def failed_count(self, edition):
        return edition.failed_count

    @admin.display(description=gettext_lazy("remaining"), ordering="remaining_count")
    def remaining_count(self, edition):
        return edition.remaining_count

    def view_on_site(self, edition):
        # The public web version exists only once the edition has gone out.
        return edition.get_absolute_url() if edition.status == SENT else None

    # --- editing only drafts ---

    def _may_send(self, request) -> bool:
        # Sending is a change of the edition; the change permission without the draft rule.
        return super().has_change_permission(request)

    def has_change_permission(self, request, obj=None):
        # Once scheduled, what subscribers get is fixed: the page shows it read-only.
        return super().has_change_permission(request, obj) and (obj is None or obj.status == DRAFT)

    def has_delete_permission(self, request, obj=None):
        # A sent edition is the record of what went to whom; only drafts may go.
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == DRAFT)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would not ask has_delete_permission per edition
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.status = DRAFT
            super().save_model(request, obj, form, change)
            return
        # The admin saves in a transaction: holding the row, an edition that was scheduled or
        # started since the page was loaded is not changed under its subscribers' eyes, and the
        # state columns are never written from the form.
        if not Edition.objects.select_for_update().filter(pk=obj.pk, status=DRAFT).exists():
            raise PermissionDenied
        obj.save(update_fields=[name for name in CONTENT_FIELDS if name != "topics"])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        edition = self.get_object(request, unquote(object_id))
        context = {}
        if edition is not None:
            may_send = self._may_send(request)
            context = {
                "may_send": may_send,
                "can_schedule": may_send and edition.status == DRAFT,
                "can_send_now": may_send and edition.status in (DRAFT, SCHEDULED),
                "can_cancel": may_send and edition.status == SCHEDULED,
                "progress": delivery.progress(edition) if edition.status in (SENDING, SENT) else None,
            }
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    # --- pages of one edition ---

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/preview.html", view(self.preview_html_view), name=f"{name}_preview_html"),
            path("<path:object_id>/preview.txt", view(self.preview_text_view), name=f"{name}_preview_text"),
            path("<path:object_id>/send-test/", view(self.send_test_view), name=f"{name}_send_test"),
            path("<path:object_id>/schedule/", view(self.schedule_view), name=f"{name}_schedule"),
            path("<path:object_id>/send-now/", view(self.send_now_view), name=f"{name}_send_now"),
            path(
                "<path:object_id>/cancel-schedule/",
                view(self.cancel_schedule_view),
                name=f"{name}_cancel_schedule",
            ),
            *super().get_urls(),
        ]

    def _edition(self, request, object_id: str, *, send: bool = False) -> Edition:
        edition = self.get_object(request, unquote(object_id))
        if edition is None:
            raise Http404
        if not self.has_view_permission(request, edition) or (send and not self._may_send(request)):
            raise PermissionDenied
        return edition

    def _not_now(self, request, edition: Edition, allowed: tuple[str, ...]):
        """The page of an action the edition's state no longer allows: back, with the reason."""
        if edition.status in allowed:
            return None
        if edition.status in (SENDING, SENT):
            self.message_user(request, _("This edition has been sent already."), messages.WARNING)
        else:
            self.message_user(
                request,
                _("Not possible for an edition in the state “%(status)s”.")
                % {"status": edition.get_status_display()},
                messages.WARNING,
            )
        return self._change_page(edition)

    def _change_page(self, edition: Edition):
        return redirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[edition.pk])
        )

    def _sample_subscriber(self, request) -> Subscriber:
        """A subscriber who exists only for the preview: the organizer's address, the language
        asked for (?language=da) or the page's, and personal links that name nobody."""
        language = request.GET.get("language", "")
        if language not in dict(settings.LANGUAGES):
            language = translation.get_language()
        return Subscriber(email=request.user.email, language=language, status=Subscriber.Status.ACTIVE)

    # The email's layout is inline styles, which the portal's policy forbids elsewhere; the
    # preview is sanitized Markdown and runs no script.
    @csp_update({"style-src": ["'unsafe-inline'"]})
    def preview_html_view(self, request, object_id):
        edition = self._edition(request, object_id)
        _subject, _text, html = rendering.render_edition(edition, self._sample_subscriber(request))
        return HttpResponse(html)

    def preview_text_view(self, request, object_id):
        edition = self._edition(request, object_id)
        subject, text, _html = rendering.render_edition(edition, self._sample_subscriber(request))
        return HttpResponse(f"{subject}\n\n{text}", content_type="text/plain; charset=utf-8")

    def _confirm_page(
        self, request, edition: Edition, *, title: str, lines: list[str], submit: str, form=None
    ):
        return TemplateResponse(
            request,
            "admin/newsletters/edition/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": edition,
                "title": title,
                "lines": lines,
                "submit_label": submit,
                "form": form,
            },
        )

    def send_test_view(self, request, object_id):
        edition = self._edition(request, object_id, send=True)
        if not request.user.email:
            self.message_user(
                request, _("Your account has no email address to send the test to."), messages.ERROR
            )
            return self._change_page(edition)
        if request.method == "POST":
            try:
                emails.send_test(edition, request.user.email, language=translation.get_language())
            except OSError as exc:  # smtplib's errors included: the organizer sees what failed
                self.message_user(
                    request, _("The test could not be sent: %(error)s") % {"error": exc}, messages.ERROR
                )
            else:
                self.log_change(
                    request, edition, _("Sent a test to %(email)s.") % {"email": request.user.email}
                )
                self.message_user(
                    request,
                    _("A test is on its way to %(email)s.") % {"email": request.user.email},
                    messages.SUCCESS,
                )
            return self._change_page(edition)
        return self._confirm_page(
            request,
            edition,
            title=_("Send a test"),
            lines=[
                _(
                    "“%(subject)s” goes to %(email)s only, with “[TEST]” before the subject. "
                    "No subscriber gets it."
                )
                % {"subject": edition.subject, "email": request.user.email}
            ],
            submit=_("Send the test"),
        )

    def schedule_view(self, request, object_id):
        edition = self._edition(request, object_id, send=True)
        if request.method != "POST" and (refusal := self._not_now(request, edition, (DRAFT,))):
            return refusal
        form = ScheduleForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                delivery.schedule(edition, form.cleaned_data["at"], by=request.user)
            except delivery.EditionStateError as error:
                self.message_user(request, error.message, messages.ERROR)
                return self._change_page(edition)
            when = formats.date_format(timezone.localtime(edition.scheduled_at), "DATETIME_FORMAT")
            self.log_change(request, edition, _("Scheduled for %(when)s.") % {"when": when})
            self.message_user(
                request,
                _("“%(subject)s” goes out at %(when)s.") % {"subject": edition, "when": when},
                messages.SUCCESS,
            )
            return self._change_page(edition)
        return self._confirm_page(
            request,
            edition,
            title=_("Schedule"),
            lines=[
                _("Choose when “%(subject)s” goes out. Until then you can cancel the schedule.")
                % {"subject": edition.subject},
                self._audience_line(edition),
            ],
            submit=_("Schedule"),
            form=form,
        )

    def _audience_line(self, edition: Edition) -> str:
        count = delivery.audience(edition).count()
        return ngettext(
            "It goes to %(count)d subscriber as of now.", "It goes to %(count)d subscribers as of now.", count
        ) % {"count": count}

    def send_now_view(self, request, object_id):
        edition = self._edition(request, object_id, send=True)
        if request.method == "POST":
            try:
                delivery.send_now(edition, by=request.user)
            except delivery.EditionStateError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.log_change(request, edition, _("Sending started."))
                self.message_user(
                    request,
                    _("“%(subject)s” is being sent.") % {"subject": edition.subject},
                    messages.SUCCESS,
                )
            return self._change_page(edition)
        if refusal := self._not_now(request, edition, (DRAFT, SCHEDULED)):
            return refusal
        count = delivery.audience(edition).count()
        return self._confirm_page(
            request,
            edition,
            title=_("Send now"),
            lines=[
                ngettext(
                    "“%(subject)s” goes to %(count)d subscriber now.",
                    "“%(subject)s” goes to %(count)d subscribers now.",
                    count,
                )
                % {"subject": edition.subject, "count": count},
                _("Once it has started, it cannot be stopped or sent again."),
            ],
            submit=_("Send now"),
        )

    def cancel_schedule_view(self, request, object_id):
        edition = self._edition(request, object_id, send=True)
        if request.method == "POST":
            try:
                delivery.cancel_schedule(edition, by=request.user)
            except delivery.EditionStateError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.log_change(request, edition, _("Schedule cancelled."))
                self.message_user(request, _("The edition is a draft again."), messages.SUCCESS)
            return self._change_page(edition)
        if refusal := self._not_now(request, edition, (SCHEDULED,)):
            return refusal
        return self._confirm_page(
            request,
            edition,
            title=_("Cancel schedule"),
            lines=[
                _("“%(subject)s” goes back to being a draft and is not sent.") % {"subject": edition.subject}
            ],
            submit=_("Cancel schedule"),
        )
