from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.forms import ThemesByNameIterator
from events.models import Theme

from .services import subscriptions


def consent_text() -> str:
    """What a visitor agrees to by ticking the consent box, in the active language; it is stored
    with the consent record as shown."""
    return gettext(
        "I want the newsletter of %(network)s by email, and I agree that the network keeps my "
        "address and choices for that purpose. I can unsubscribe at any time from a link in "
        "every email."
    ) % {"network": settings.NETWORK_NAME}


def member_consent_text() -> str:
    """The text next to the one-click subscribe button on the profile page (the template tag
    newsletter_consent.member_consent_text shows it), stored with the consent record as shown."""
    return gettext(
        "Get the newsletter by email: news, events and materials from the network. "
        "You can unsubscribe at any time."
    )


class ThemeChoiceField(forms.ModelMultipleChoiceField):
    iterator = ThemesByNameIterator

    def label_from_instance(self, theme: Theme) -> str:
        return theme.display_name


def _as_bool(value) -> bool:
    return value in (True, "True", "true", "1")


class PreferencesForm(forms.Form):
    """What a subscriber hears about and in which language; the web form and the preferences
    page share it."""

    language = forms.ChoiceField(label=_("Language of the emails"), choices=settings.LANGUAGES)
    all_topics = forms.TypedChoiceField(
        label=_("Topics"),
        choices=[("True", _("All topics")), ("False", _("Only the topics I choose below"))],
        coerce=_as_bool,
        empty_value=True,
        initial="True",
        widget=forms.RadioSelect,
    )
    topics = ThemeChoiceField(
        label=_("Choose topics"),
        queryset=Theme.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Used when you choose “Only the topics I choose below”."),
        error_messages={"invalid_choice": _("Choose topics from the list.")},
    )
    event_alerts = forms.BooleanField(
        label=_("Also email me when a new event on my topics opens for registration"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        themes = Theme.objects.order_by("name")
        if themes.exists():
            self.fields["topics"].queryset = themes
        else:
            # Without themes there is nothing to choose: everyone hears about everything.
            del self.fields["all_topics"]
            del self.fields["topics"]

    def clean(self):
        data = super().clean()
        if "topics" not in self.fields:
            data.update(all_topics=True, topics=[])
        elif "topics" not in self.errors:
            try:
                subscriptions.check_topics(data.get("topics") or [], data.get("all_topics") is not False)
            except subscriptions.SubscriptionError as error:
                self.add_error("topics", error.message)
        return data


class SubscribeForm(PreferencesForm):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box to agree, or we cannot send you the newsletter.")},
    )
    # A field people never see: bots that fill in every field give themselves away.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    field_order = ["email", "language", "all_topics", "topics", "event_alerts", "consent", "website"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text()
        self.fields["consent"].label = self.consent_text

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("Where the list and its consent come from, e.g. “Sign-up sheet, network day 2026”."),
    )
    consent_text = forms.CharField(
        label=_("Consent text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The text the people on the list agreed to."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8, with the header email,language,topics. Language is one of %(languages)s; topics "
            "are theme slugs separated by ; (empty for all topics)."
        ) % {"languages": ", ".join(dict(settings.LANGUAGES))}
