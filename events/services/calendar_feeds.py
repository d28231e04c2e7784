"""The member's private calendar feed address: made on first use, replaced on request."""

from members.models import User

from ..models import CalendarFeed


def calendar_feed_for(user: User) -> CalendarFeed:
    """The member's private calendar feed, made on first use."""
    return CalendarFeed.objects.get_or_create(user=user)[0]


def reset_calendar_feed(user: User) -> CalendarFeed:
    """A new secret address; the old one stops working (for a link that was shared or leaked)."""
    feed = calendar_feed_for(user)
    feed.token = CalendarFeed._meta.get_field("token").get_default()
    feed.save(update_fields=["token"])
    return feed
