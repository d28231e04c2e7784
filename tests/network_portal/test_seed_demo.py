import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from events.models import Evaluation, Event, Registration
from members.management.commands.seed_demo import DEMO_PASSWORD
from members.models import User

pytestmark = pytest.mark.usefixtures("reference_organizations")


def test_seed_demo_is_idempotent_and_reads_like_the_seeds(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Registration.objects.count(), Event.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Registration.objects.count(), Event.objects.count()) == counts
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == User.objects.count()

    kinds = set(User.objects.values_list("organization__kind", flat=True))
    assert {"municipality", "county_board"} <= kinds
    assert User.objects.filter(organization__country="SE").exists()
    assert User.objects.filter(organization__country="DK").exists()
    assert all(user.profile_complete for user in User.objects.all())
    assert User.objects.filter(is_staff=True, groups__name="Organizers").count() == 2
    # One member picked an organization the address does not prove: awaiting verification.
    assert User.objects.filter(organization_verified_at__isnull=True).count() == 1
    assert DEMO_PASSWORD in capsys.readouterr().out


def test_seed_demo_has_both_announcements_and_a_past_meeting_with_materials():
    call_command("seed_demo")
    charging = Event.objects.get(slug="netvaerksmode-ladeinfrastruktur")
    assert charging.main_theme.slug == "charging-infrastructure"
    assert charging.starts_at.astimezone().month == 10 and charging.agenda_items.count() >= 5
    assert {item.kind for item in charging.agenda_items.all()} >= {
        "external_talk",
        "organizer_talk",
        "member_talk",
        "workshop",
        "discussion",
    }
    workshop = Event.objects.get(slug="workshop-klimatsmarta-lanstransportplaner")
    assert workshop.organization_quota == 4 and workshop.contacts.count() == 2
    occasions = list(workshop.occasions.with_seats())
    assert [o.label for o in occasions] == ["4–5 november", "25–26 november", "2–3 december"]
    assert all(o.capacity == 28 and o.day_parts.count() == 2 for o in occasions)
    assert occasions[0].confirmed_count == 28 and occasions[0].waitlisted_count >= 1  # a full occasion
    assert set(Registration.objects.waitlisted().values_list("wait_reason", flat=True)) >= {"full", "quota"}
    assert workshop.series.documents.exists()
    past = Event.objects.past().get()
    assert past.documents.exists()
    # Its organizers recorded who came, and two participants evaluated it.
    assert sorted(past.registrations.values_list("attended", flat=True), key=str) == [False, True, True]
    assert Evaluation.objects.filter(registration__event=past).count() == 2


def test_demo_logins_work(client):
    call_command("seed_demo")
    assert client.login(email="mobility@aarhus.dk", password=DEMO_PASSWORD)


def test_seed_demo_sends_one_newsletter_edition_to_the_archive(client, django_capture_on_commit_callbacks):
    from newsletters.models import Edition, Subscriber

    with django_capture_on_commit_callbacks(execute=True):  # the commits of a real run
        call_command("seed_demo")
        call_command("seed_demo")
    edition = Edition.objects.get()
    assert edition.status == Edition.Status.SENT
    assert edition.delivery_counts()["sent"] == Subscriber.objects.active().count() == 4
    assert edition.subject in client.get("/newsletter/archive/").text
