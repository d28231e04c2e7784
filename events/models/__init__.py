"""The events app's models, one module per subject: events and what they are filed under
(event), what an event offers (programme), registrations (registration) and what participants
thought of an occasion (evaluation).

Django finds an app's models in `<app>.models`, so every model class is imported here; so are the
functions the migrations name by their path in `events.models` (a field default, a validator).
"""

from .evaluation import RATINGS, Evaluation, ItemRating
from .event import (
    MAX_REMINDER_DAYS,
    ContactPerson,
    Event,
    EventQuerySet,
    Series,
    SeriesQuerySet,
    Theme,
    _default_reminder_days,
    _validate_reminder_days,
    team_visibility,
)
from .programme import AgendaItem, DayPart, Document, Occasion, OccasionQuerySet, Speaker
from .registration import CalendarFeed, Registration, RegistrationLog, RegistrationQuerySet, _feed_token

__all__ = [
    "MAX_REMINDER_DAYS",
    "RATINGS",
    "AgendaItem",
    "CalendarFeed",
    "ContactPerson",
    "DayPart",
    "Document",
    "Evaluation",
    "Event",
    "EventQuerySet",
    "ItemRating",
    "Occasion",
    "OccasionQuerySet",
    "Registration",
    "RegistrationLog",
    "RegistrationQuerySet",
    "Series",
    "SeriesQuerySet",
    "Speaker",
    "Theme",
    "_default_reminder_days",
    "_feed_token",
    "_validate_reminder_days",
    "team_visibility",
]
