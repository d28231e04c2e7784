import datetime as dt

from django import forms
from django.conf import settings
from django.forms.models import ModelChoiceIterator
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.text import PersonTextField
from network_portal.collation import sorted_by_name

from .models import RATINGS, AgendaItem, Event, Occasion, Registration, Series, Theme


class ThemesByNameIterator(forms.models.ModelChoiceIterator):
    """Themes by their name in the reader's language, not by the English name or the slug: the
    database cannot sort by whichever name column the reader's language picks, Danish and
    Swedish letters included."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for theme in sorted_by_name(self.queryset, lambda theme: theme.display_name):
            yield self.choice(theme)


class ThemeChoiceField(forms.ModelChoiceField):
    iterator = ThemesByNameIterator

    def label_from_instance(self, theme: Theme) -> str:
        return theme.display_name


class EventFilterForm(forms.Form):
    """Filters of the event list; every field optional, bad values reported next to the field."""

    when = forms.ChoiceField(
        label=_("When"),
        choices=[("upcoming", _("Upcoming")), ("past", _("Past"))],
        required=False,
    )
    theme = ThemeChoiceField(
        label=_("Theme"),
        queryset=Theme.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All"),
    )
    series = forms.ModelChoiceField(
        label=_("Series"),
        queryset=Series.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All"),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("", _("All")), *Event.Format.choices], required=False
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        help_text=_("Year and month, e.g. 2026-11."),
        widget=forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}"}),
    )

    def clean_month(self) -> dt.date | None:
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Enter a month as year-month, e.g. 2026-11.")) from None


def chosen_topic(query) -> dict:
    """The theme and series a public list, feed or calendar was asked for (`?theme=cycling`),
    as event_list takes them; an unknown one is ignored, never an error."""
    form = EventFilterForm(query or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return {"theme": filters.get("theme"), "series": filters.get("series")}


def with_topic(path: str, topic: dict) -> str:
    """`path` asking for `topic` again (`/events/?theme=cycling`); `path` alone for everything."""
    query = urlencode({field: value.slug for field, value in topic.items() if value})
    return f"{path}?{query}" if query else path


def topic_title(topic: dict) -> str:
    """A feed's or calendar's name: the network's, with the theme or series chosen."""
    chosen = topic["theme"] or topic["series"]
    return f"{settings.NETWORK_NAME}: {chosen}" if chosen else settings.NETWORK_NAME


class _OccasionChoices(ModelChoiceIterator):
    """The field's choices, reading its queryset when they are iterated, not when made."""

    def __init__(self, field):
        self.field = field

    @property
    def queryset(self):
        return self.field.queryset


class _OccasionField(forms.ModelChoiceField):
    """A choice among the event's occasions that takes the occasion the view read already (with
    its event, in the one query before the registration's lock) without reading it again; the
    queryset of the event's occasions is built only when something asks for it (another value
    posted, the choices rendered): a posted registration in a rush never does."""

    iterator = _OccasionChoices
    read: Occasion | None = None
    event: Event | None = None

    def _get_queryset(self):
        if self._queryset is None and self.event is not None:
            self._set_queryset(self.event.occasions.all())
        return self._queryset

    queryset = property(_get_queryset, forms.ModelChoiceField._set_queryset)

    def to_python(self, value):
        if self.read is not None and str(value) == str(self.read.pk):
            return self.read
        return super().to_python(value)


class RegistrationForm(forms.Form):
    occasion = _OccasionField(
        label=_("Occasion"),
        queryset=None,  # the event's occasions (see _OccasionField)
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the occasions of this event.")},
    )
    # Shown to organizers and in exports: no invisible or bidirectional characters (members.text).
    diet = PersonTextField(label=_("Dietary needs"), max_length=200, required=False)
    accessibility = PersonTextField(label=_("Accessibility needs"), max_length=200, required=False)
    listed = forms.BooleanField(
        label=capfirst(Registration._meta.get_field("listed").verbose_name),
        help_text=Registration._meta.get_field("listed").help_text,
        required=False,
    )

    def __init__(self, *args, event: Event, read: Occasion | None = None, **kwargs):
        """`read`: the posted occasion, read already as one of the event's."""
        super().__init__(*args, **kwargs)
        field = self.fields["occasion"]
        field.event, field.read = event, read
        field.widget.choices = field.choices  # this field's, not the class's (widgets are copied)
        # Only a form shown needs the one occasion preselected; a posted one reads just the choice.
        if not self.is_bound:
            occasions = list(field.queryset)
            if len(occasions) == 1:
                field.initial = occasions[0].pk
        field.label_from_instance = lambda occasion: occasion.display_label
        if event.format == Event.Format.ONLINE:
            del self.fields["diet"]


class ConfirmRegistrationForm(RegistrationForm):
    """The confirmation step after a date button: the date is chosen already, so it travels
    hidden; the member adds needs and the listing, then confirms."""

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, event=event, **kwargs)
        self.fields["occasion"].widget = forms.HiddenInput()


def _move_choice(occasion: Occasion) -> str:
    # The seats are in the option itself: a member moving should not have to look up which
    # date is full (a move to a full date keeps a seat, or joins the waiting list).
    if occasion.seats_left:
        return ngettext(
            "%(occasion)s (%(left)d seat left)", "%(occasion)s (%(left)d seats left)", occasion.seats_left
        ) % {"occasion": occasion.display_label, "left": occasion.seats_left}
    return gettext("%(occasion)s (full – waiting list)") % {"occasion": occasion.display_label}


class MoveForm(forms.Form):
    # An empty first choice: a preselected date would be one press away from an unintended move.
    occasion = forms.ModelChoiceField(
        label=_("Move to"),
        queryset=Occasion.objects.none(),
        empty_label=_("Choose a date"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": _("Choose the date to move to."),
            "invalid_choice": _("Choose one of the other occasions of this event."),
        },
    )

    def __init__(self, *args, registration: Registration, **kwargs):
        super().__init__(*args, **kwargs)
        self.registration = registration
        event = registration.event
        read_already = "occasions" in getattr(event, "_prefetched_objects_cache", {})
        if self.is_bound or not read_already:
            # What a posted choice may be, and the options when the page read no occasions.
            self.fields["occasion"].queryset = (
                event.occasions.with_seats().exclude(pk=registration.occasion_id).order_by("starts_at", "pk")
            )
        self.fields["occasion"].label_from_instance = _move_choice
        if read_already:
            # The event page read the occasions with their seats already: offer those, without
            # reading them again.
            others = sorted(
                (occasion for occasion in event.occasions.all() if occasion.pk != registration.occasion_id),
                key=lambda occasion: (
                    occasion.starts_at is None,
                    occasion.starts_at or event.created_at,
                    occasion.pk,
                ),
            )
            self.fields["occasion"].choices = [
                ("", self.fields["occasion"].empty_label),
                *((occasion.pk, _move_choice(occasion)) for occasion in others),
            ]

    @property
    def offers_a_move(self) -> bool:
        """Whether there is another occasion to move to (the empty choice aside)."""
        return len(self.fields["occasion"].choices) > 1


_RATING_CHOICES = [(value, str(value)) for value in RATINGS]


class EvaluationForm(forms.Form):
    """The whole occasion's rating (required), one optional rating per programme item, what the
    participant takes home and a theme they wish for. Items are fields named item_<id>."""

    rating = forms.TypedChoiceField(
        label=_("How was the event as a whole? (1 = poor, 5 = excellent)"),
        choices=_RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    take_home = PersonTextField(
        label=_("What do you take home?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    theme_wish = PersonTextField(
        label=_("A theme you would like a next event on"), max_length=300, required=False
    )

    def __init__(self, *args, items: list[AgendaItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.title,
                choices=_RATING_CHOICES,
                coerce=int,
                required=False,
                widget=forms.RadioSelect,
            )
        # The programme's ratings between the whole and the free text.
        order = ["rating", *(f"item_{item.pk}" for item in items), "take_home", "theme_wish"]
        self.order_fields(order)

    def item_ratings(self) -> dict[int, int]:
        return {
            item.pk: self.cleaned_data[f"item_{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"item_{item.pk}") not in (None, "")
        }
