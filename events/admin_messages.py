"""The organizer's message to the participants of one event (admin:events_event_message): write
it, preview it as a participant gets it (HTML and plain text), send a test to oneself, then send
it to the chosen recipients.

The preview and the test are rendered by events.notifications.organizer_message_email, the
function the worker renders every participant's copy with; the send goes through
events.services.lifecycle.message_participants and the outbox. Who is reached is
events.selectors.message_recipients, for the count shown here and for the send alike.
"""

from __future__ import annotations

import uuid

from csp.decorators import csp_update
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import notifications, selectors
from .models import Event
from .selectors import MessageRecipients
from .services import lifecycle


class ParticipantMessageForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy(
            "Markdown: **bold**, *italics*, [a link](https://example.org), lists with “- ”. "
            "Preview shows the message as the participants get it."
        ),
    )
    recipients = forms.ChoiceField(
        label=gettext_lazy("To"),
        choices=MessageRecipients.choices,
        initial=MessageRecipients.CONFIRMED,
        widget=forms.RadioSelect,
    )
    occasion = forms.ModelChoiceField(
        label=gettext_lazy("Occasion"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All occasions"),
    )
    # Names this message: a second press of Send (or a resubmitted page) writes no second copy.
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        occasion = self.fields["occasion"]
        occasion.queryset = event.occasions.order_by("starts_at", "pk")
        occasion.label_from_instance = lambda choice: choice.display_label
        self.fields["nonce"].initial = uuid.uuid4().hex


class EventMessages:
    """The message page of one event, mixed into EventAdmin."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/message/",
                self.admin_site.admin_view(self.message_view),
                name=f"{name}_message",
            ),
            *super().get_urls(),
        ]

    # The email's layout is style attributes, which the portal's policy forbids elsewhere. The
    # preview's frame (its srcdoc inherits this page's policy) needs them; they run no script,
    # and the organizer's Markdown is sanitized before it gets there.
    @csp_update({"style-src-attr": ["'unsafe-inline'"]})
    def message_view(self, request, object_id):
        event = self._event_to_change(request, object_id)
        posted = request.method == "POST"
        form = ParticipantMessageForm(request.POST if posted else None, event=event)
        preview = None
        choice = {}
        if posted and form.is_valid():
            choice = dict(form.cleaned_data)  # as chosen, even if sending refuses it below
            if "send" in request.POST:
                sent = self._send(request, event, form)
                if sent is not None:
                    return sent
            elif "test" in request.POST:
                self._send_test(request, event, form)
            else:  # "preview", and Enter in a field, which presses the form's first button
                preview = self._rendered(request, event, form.cleaned_data)
        recipient_count = selectors.message_recipients(
            event,
            recipients=choice.get("recipients", MessageRecipients.CONFIRMED),
            occasion=choice.get("occasion"),
        ).count()
        return TemplateResponse(
            request,
            "admin/events/event/message.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": event,
                "event": event,
                "title": _("Write to participants: %(event)s") % {"event": event},
                "form": form,
                "preview": preview,
                "recipient_count": recipient_count,
            },
        )

    def _rendered(self, request, event: Event, data: dict):
        return notifications.organizer_message_email(
            event,
            request.user,
            subject=data["subject"],
            body=data["body"],
            sender=notifications.sender_name(request.user),
            language=translation.get_language(),
        )

    def _send(self, request, event: Event, form: ParticipantMessageForm):
        data = form.cleaned_data
        if not selectors.message_recipients(
            event, recipients=data["recipients"], occasion=data["occasion"]
        ).exists():
            form.add_error("recipients", _("Nobody is reached by this choice; the message was not sent."))
            return None
        count = lifecycle.message_participants(
            event,
            subject=data["subject"],
            body=data["body"],
            organizer=request.user,
            occasion=data["occasion"],
            recipients=data["recipients"],
            message_key=data["nonce"],
        )
        self.log_change(request, event, _("Wrote to %(count)d participants.") % {"count": count})
        self.message_user(
            request,
            ngettext("%(count)d message is on its way.", "%(count)d messages are on their way.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        return redirect(reverse(f"{self.admin_site.name}:events_event_change", args=[event.pk]))

    def _send_test(self, request, event: Event, form: ParticipantMessageForm) -> None:
        email = request.user.email
        if not email:
            self.message_user(
                request, _("Your account has no email address to send the test to."), messages.ERROR
            )
            return
        data = form.cleaned_data
        try:
            notifications.send_organizer_test(
                event,
                subject=data["subject"],
                body=data["body"],
                organizer=request.user,
                language=translation.get_language(),
            )
        except OSError as exc:  # smtplib's errors included: the organizer sees what failed
            self.message_user(
                request, _("The test could not be sent: %(error)s") % {"error": exc}, messages.ERROR
            )
            return
        self.log_change(request, event, _("Sent a test to %(email)s.") % {"email": email})
        self.message_user(
            request,
            _("A test is on its way to %(email)s. No participant gets it.") % {"email": email},
            messages.SUCCESS,
        )
