import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from members.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from members.models import User

pytestmark = pytest.mark.usefixtures("reference_organizations")


def test_seed_demo_is_idempotent_and_reads_like_the_seeds(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.count() == len(DEMO_USERS)
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == len(DEMO_USERS)

    kinds = set(User.objects.values_list("organization__kind", flat=True))
    assert {"municipality", "county_board"} <= kinds
    assert User.objects.filter(organization__country="SE").exists()
    assert User.objects.filter(organization__country="DK").exists()
    assert all(user.profile_complete for user in User.objects.all())
    assert User.objects.filter(is_staff=True, groups__name="Organizers").count() == 2
    # One member picked an organization the address does not prove: awaiting verification.
    assert User.objects.filter(organization_verified_at__isnull=True).count() == 1
    assert DEMO_PASSWORD in capsys.readouterr().out


def test_demo_logins_work(client):
    call_command("seed_demo")
    assert client.login(email="mobility@aarhus.dk", password=DEMO_PASSWORD)
