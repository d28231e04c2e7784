"""Demo data that reads like the two announcements the portal serves: organizers at KL and at
the county administrative boards, members from several municipalities and boards; then the demo
data the other apps registered (events, the newsletter). Idempotent: running it again updates
the same rows."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from members import registry, services
from members.models import Organization, OrganizationDomain, User

DEMO_PASSWORD = "green-mobility-demo"

# (email, full name, organization lookup, role, job title, language, staff)
DEMO_USERS = [
    (
        "organizer@kl.dk",
        "Karen Holm",
        ("DK", "other", "KL"),
        "manager",
        "Chefkonsulent, grøn mobilitet",
        "da",
        True,
    ),
    (
        "organizer@lansstyrelsen.se",
        "Maria Ek",
        ("SE", "county_board", "12"),
        "transport_planner",
        "Projektledare, Klimatsmarta länstransportplaner",
        "sv",
        True,
    ),
    (
        "mobility@aarhus.dk",
        "Jens Kristensen",
        ("DK", "municipality", "751"),
        "transport_planner",
        "Mobilitetsplanlægger",
        "da",
        False,
    ),
    (
        "klima@kk.dk",
        "Sofie Nielsen",
        ("DK", "municipality", "101"),
        "climate_energy_strategist",
        "Klimastrateg",
        "da",
        False,
    ),
    (
        "cykel@odense.dk",
        "Lars Madsen",
        ("DK", "municipality", "461"),
        "manager",
        "Afdelingschef, Trafik",
        "da",
        False,
    ),
    (
        "planerare.skane@lansstyrelsen.se",
        "Erik Lindqvist",
        ("SE", "county_board", "12"),
        "community_planner",
        "Samhällsplanerare",
        "sv",
        False,
    ),
    (
        "klimat.stockholm@lansstyrelsen.se",
        "Anna Berg",
        ("SE", "county_board", "01"),
        "climate_energy_strategist",
        "Energi- och klimatstrateg",
        "sv",
        False,
    ),
    (
        "miljomal.uppsala@lansstyrelsen.se",
        "Karin Sjöberg",
        ("SE", "county_board", "03"),
        "environmental_objectives_coordinator",
        "Miljömålssamordnare",
        "sv",
        False,
    ),
    (
        "trafik@malmo.se",
        "Johan Persson",
        ("SE", "municipality", "1280"),
        "transport_planner",
        "Trafikplanerare",
        "sv",
        False,
    ),
    (
        "konsulent@example.org",
        "Mikkel Dahl",
        ("DK", "municipality", "147"),
        "specialist",
        "Konsulent",
        "en",
        False,
    ),
]


# The demo's superuser: manages organizer teams and sees every event. The organizers above see
# only their own team's events (KL's Danish meetings; the county boards' Swedish workshop).
DEMO_ADMIN = (
    "admin@kl.dk",
    "Peter Lund",
    ("DK", "other", "KL"),
    "manager",
    "Portaladministrator",
    "da",
)


class Command(BaseCommand):
    help = "Create or update demo organizers and members, and the demo data of other apps (idempotent)."

    def handle(self, *args, **options):
        # The demo registrations send real confirmations through the outbox; writing them to a
        # folder keeps hundreds of emails off the console of `make run`, and they can be read.
        mail_dir = settings.BASE_DIR / "var" / "demo-mail"
        mail_dir.mkdir(parents=True, exist_ok=True)
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=mail_dir
        ):
            self._seed()
        self.stdout.write(f"  (emails of the demo data are in {mail_dir})")

    @transaction.atomic
    def _seed(self):
        kl, _ = Organization.objects.update_or_create(
            country="DK",
            kind="other",
            official_code="KL",
            defaults={"name": "KL – Kommunernes Landsforening"},
        )
        OrganizationDomain.objects.get_or_create(organization=kl, domain="kl.dk")
        organizers = services.ensure_organizer_group()

        for email, name, (country, kind, code), role, title, language, staff in [
            *DEMO_USERS,
            (*DEMO_ADMIN, True),
        ]:
            user = User.objects.filter(email=email).first() or User.objects.create_user(email, DEMO_PASSWORD)
            user.set_password(DEMO_PASSWORD)
            user.is_staff = staff
            # Organizers are no superusers: each sees only their team's events (an earlier
            # version of the demo made organizer@kl.dk one).
            user.is_superuser = email == DEMO_ADMIN[0]
            user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if staff and not user.is_superuser:
                user.groups.add(organizers)
            organization = Organization.objects.get(country=country, kind=kind, official_code=code)
            services.update_profile(
                user,
                organization=organization,
                full_name=name,
                role=role,
                job_title=title,
                preferred_language=language,
            )

        # The apps that build on these members add theirs (members.registry), in their order.
        more = []
        for seeder in registry.demo_seeders():
            more += seeder.seed(DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at http://127.0.0.1:8000 with:"))
        for email, *_profile, staff in DEMO_USERS:
            self.stdout.write(
                f"  {email:38} {'organizer' if staff else 'member':9} password: {DEMO_PASSWORD}"
            )
        self.stdout.write(f"  {DEMO_ADMIN[0]:38} {'superuser':9} password: {DEMO_PASSWORD}")
        for line in more:
            self.stdout.write(line)
