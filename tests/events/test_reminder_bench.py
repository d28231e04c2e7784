"""The reminder benchmark (bench/reminders.py) runs on a small database and leaves nothing behind."""

from bench import reminders
from events.models import Event, Registration
from mail.models import OutgoingMessage
from members.models import User


def test_the_reminder_benchmark_measures_one_run_and_cleans_up(reference_organizations):
    before = (Event.objects.count(), Registration.objects.count(), User.objects.count())

    result = reminders.measure(300, 50)

    assert result["registrations"] == 300 and result["due"] == 50 and result["written"] == 50
    assert result["seconds"] > 0 and result["queries"] > 0
    assert (Event.objects.count(), Registration.objects.count(), User.objects.count()) == before
    assert not OutgoingMessage.objects.filter(kind="reminder").exists()
    # Called again, as the harness does between its other scenarios.
    assert reminders.measure(1200, 510)["written"] == 510
