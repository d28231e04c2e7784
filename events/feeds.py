"""RSS and Atom feeds of newly published events, for feed readers and colleagues' intranets: all
of them, or of one theme or series (`?theme=cycling`, as the public calendar and the embedded
list take it)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from .forms import chosen_topic, topic_title, with_topic
from .models import Event
from .selectors import latest_published_events

FEED_LENGTH = 30


class LatestEventsRss(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request) -> dict:
        return chosen_topic(request.GET)

    def title(self, topic: dict) -> str:
        # Read per request rather than at import, so that the setting (and tests) can change it.
        return topic_title(topic)

    def description(self, topic: dict) -> str:
        return _("Events newly published by %(network)s.") % {"network": settings.NETWORK_NAME}

    def link(self, topic: dict) -> str:
        return with_topic(reverse("events:list"), topic)

    def items(self, topic: dict):
        return latest_published_events(FEED_LENGTH, **topic)

    def item_title(self, event: Event) -> str:
        return event.title

    def item_description(self, event: Event) -> str:
        # RSS descriptions and Atom summaries (type="html") are read as HTML; the summary is plain
        # text, so it is escaped to show as written.
        return escape(event.summary)

    def item_link(self, event: Event) -> str:
        return event.get_absolute_url()

    def item_pubdate(self, event: Event):
        return event.published_at

    def item_updateddate(self, event: Event):
        # Atom requires <updated> on every entry; events have no modification time of their own.
        return event.published_at

    def item_categories(self, event: Event) -> list[str]:
        themes = [event.main_theme, *(t for t in event.themes.all() if t.pk != event.main_theme_id)]
        return [theme.display_name for theme in themes]


class LatestEventsAtom(LatestEventsRss):
    feed_type = Atom1Feed

    def subtitle(self, topic: dict) -> str:
        return self.description(topic)
