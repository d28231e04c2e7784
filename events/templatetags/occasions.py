"""How an occasion's dates read in each language."""

from django import template
from django.utils import dateformat
from django.utils.translation import get_language

register = template.Library()

# A weekday with the date, as each language writes it in running text. Django's formats have no
# such name, and a bare "l j F Y" drops the period Danish puts after the day ("onsdag den 27.
# oktober 2027"); Swedish writes none ("onsdag 27 oktober 2027").
_WEEKDAY_DATE_FORMATS = {
    "da": r"l \d\e\n j. F Y",
    "sv": "l j F Y",
    "en": "l j F Y",
}


@register.filter(expects_localtime=True)
def weekday_date(value) -> str:
    if not value:
        return ""
    language = (get_language() or "en").split("-")[0]
    return dateformat.format(value, _WEEKDAY_DATE_FORMATS.get(language, _WEEKDAY_DATE_FORMATS["en"]))
