"""Demo newsletter data: a few members subscribed from their profiles, and one edition sent
through the real delivery path, so the archive and the admin's progress have something to show.
Idempotent."""

from events.models import Theme
from members.models import User

from . import delivery
from .models import Edition, Subscriber
from .services import subscriptions

CONSENT = "Yes, send me the network's newsletter. I can unsubscribe at any time."

BODY = """\
## Næste netværksmøde: ladeinfrastruktur

Det kommende netværksmøde har **udrulning af ladeinfrastruktur** som hovedtema: eksterne oplæg,
erfaringer fra Aarhus Kommune og en workshop om kommunens rolle i ladeplanen.

Tilmeld dig via arrangementets side – først til mølle.
"""


def seed(password: str) -> list[str]:
    """Registered in NewslettersConfig.ready(); the demo members exist. `password` is unused:
    this seeder makes no accounts."""
    for email in ("mobility@aarhus.dk", "klima@kk.dk", "trafik@malmo.se", "organizer@kl.dk"):
        user = User.objects.get(email=email)
        if not Subscriber.objects.filter(email=email).exists():
            subscriptions.subscribe_member(user, consent_text=CONSENT)
    if Edition.objects.exists():
        return []
    edition = Edition.objects.create(
        subject="Nyhedsbrev: grøn mobilitet i kommunerne",
        preheader="Næste netværksmøde handler om ladeinfrastruktur",
        body=BODY,
        include_upcoming_events=True,
        created_by=User.objects.get(email="organizer@kl.dk"),
    )
    edition.topics.set(Theme.objects.filter(slug="charging-infrastructure"))
    delivery.send_now(edition, by=edition.created_by)
    return ["  a sent newsletter edition in the archive at http://127.0.0.1:8000/newsletter/archive/"]
