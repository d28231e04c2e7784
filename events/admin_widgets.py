"""Dates and times in the events admin as the organizer writes them: in the active locale's
input format, to the minute, with an example next to the field (a Swedish organizer types
2027-10-27, a Danish one 27.10.2027, and neither wants to guess)."""

import datetime as dt

from django.contrib.admin import widgets
from django.db import models
from django.utils.formats import get_format
from django.utils.translation import gettext

# A sample moment to show the format with: day and month differ, so the order is unambiguous.
_EXAMPLE = dt.datetime(2027, 10, 27, 14, 0)
MINUTES = "%H:%M"


def date_example() -> str:
    """Today's locale's first input format (the one a date is shown in), as a sample date."""
    return _EXAMPLE.strftime(get_format("DATE_INPUT_FORMATS")[0])


def time_example() -> str:
    return _EXAMPLE.strftime(MINUTES)


class MinuteSplitDateTime(widgets.AdminSplitDateTime):
    """The admin's date and time boxes with the time shown without seconds."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        date, time = self.widgets
        time.format = MINUTES
        date.attrs["placeholder"] = date_example()
        time.attrs["placeholder"] = time_example()


class LocalDatesAdmin:
    """For a ModelAdmin or inline: date-and-time and time fields without seconds and with a
    format example in the help text. Built per request, so in the organizer's language."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DateTimeField):
            kwargs["widget"] = MinuteSplitDateTime()
            example = f"{date_example()} {time_example()}"
        elif isinstance(db_field, models.TimeField):
            kwargs["widget"] = widgets.AdminTimeWidget(format=MINUTES, attrs={"placeholder": time_example()})
            example = time_example()
        else:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            hint = gettext("e.g. %(example)s") % {"example": example}
            field.help_text = f"{field.help_text} {hint}" if field.help_text else hint
        return field
