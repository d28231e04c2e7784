"""Demo events that read like the two announcements: KL's network meeting on charging
infrastructure and the county boards' workshop on climate-smart transport plans, plus a past
meeting with materials, and registrations that show full occasions, waiting lists and used
quotas. Idempotent: events are found by slug, and registrations only made once."""

import datetime as dt
import zoneinfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from members import services as member_services
from members.models import Organization, Team, User

from .models import (
    AgendaItem,
    ContactPerson,
    DayPart,
    Document,
    Event,
    Occasion,
    Registration,
    Series,
    Speaker,
    Theme,
)
from .reference import load_themes
from .services import attendance, evaluations, lifecycle, registrations

KIND = AgendaItem.Kind

KL_DESCRIPTION = """\
Med netværket stiller KL skarpt på kommunernes rolle i den grønne omstilling af transporten og
mulighederne for at skabe sammenhængende og effektive mobilitetsløsninger.

Netværksmøderne veksler mellem eksterne oplæg, oplæg fra KL og oplæg fra netværkets medlemmer,
workshopbaserede øvelser og tværgående drøftelser og sparring. Hvert møde har sit tema:
udrulning af ladeinfrastruktur til elbiler, samkørsel og dele(el)biler, kollektiv transport,
cykelinfrastruktur – og hvordan kommunerne kan øge kombinationsmulighederne mellem transportformer.
"""

SE_DESCRIPTION = """\
Det länsstyrelsegemensamma projektet **Klimatsmarta länstransportplaner** bjuder in till workshop
om transporter och fysisk planering. Transporternas utsläpp måste minska med 70 % till 2030.

Korta föredragningar med diskussioner om hur den nationella planen och länstransportplanerna
fungerar och samverkar, och om den strategiska miljöbedömningens roll. Ett viktigt syfte är att
förbättra den interna samverkan kring transporter.

**Anmälan:** fyra platser per länsstyrelse, 28 platser per tillfälle, först till kvarn. Slå dig
ihop med kollegorna på din länsstyrelse – det kan vara smart att välja samma tillfälle.
"""

SE_SERIES_DESCRIPTION = """\
Klimatsmarta länstransportplaner och samhällsplanering 2.0 är ett samarbete mellan RUS (regional
utveckling och samverkan i miljömålssystemet) och LEKS (Länsstyrelsernas energi- och
klimatsamordning). Projektet bygger vidare på rapporten *Hur kan vi göra länstransportplanerna mer
klimatsmarta?* (2018) och workshoparna våren 2019 med länsplaneupprättarna.
"""

SWEDISH_NAMES = [
    "Astrid Holm", "Björn Lund", "Cecilia Nyberg", "David Ek", "Elin Strand", "Fredrik Sjögren",
    "Greta Åberg", "Henrik Dahl", "Ingrid Berglund", "Jonas Öberg", "Karin Lindgren", "Lars Wikström",
    "Maja Forsberg", "Nils Hedlund", "Olivia Sandberg", "Per Nyström", "Rebecka Håkansson",
    "Sven Ålund", "Tove Engström", "Ulf Mattsson", "Vera Lundqvist", "Axel Björk", "Britt Söderberg",
    "Carl Lindholm", "Disa Norén", "Emil Bergström", "Frida Eklund", "Gustav Hellström",
    "Hanna Sundberg", "Isak Falk", "Johanna Blom", "Klas Östlund", "Linnea Vik",
]  # fmt: skip
SWEDISH_ROLES = [
    "climate_energy_strategist", "community_planner", "environmental_objectives_coordinator",
    "infrastructure_strategist", "transport_planner",
]  # fmt: skip


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )


def _next(month: int, day: int, today: dt.date) -> dt.date:
    """The next such date at least two weeks ahead, so the demo always has open registration."""
    candidate = dt.date(today.year, month, day)
    return candidate if candidate > today + dt.timedelta(days=14) else dt.date(today.year + 1, month, day)


def _theme(slug: str) -> Theme:
    return Theme.objects.get(slug=slug)


def _contact(name, email, organization, phone="") -> ContactPerson:
    return ContactPerson.objects.update_or_create(
        email=email, defaults={"name": name, "organization": organization, "phone": phone}
    )[0]


def _speaker(name: str, organization: str) -> Speaker:
    return Speaker.objects.get_or_create(name=name, organization=organization)[0]


def _event(slug: str, **fields) -> tuple[Event, bool]:
    event, created = Event.objects.update_or_create(slug=slug, defaults=fields)
    return event, created


def _occasion(event, label, capacity, parts, **fields) -> Occasion:
    occasion, _ = Occasion.objects.update_or_create(
        event=event, label=label, defaults={"capacity": capacity, **fields}
    )
    for number, (starts, ends) in enumerate(parts, start=1):
        DayPart.objects.update_or_create(
            occasion=occasion, number=number, defaults={"starts_at": starts, "ends_at": ends}
        )
    return occasion


def _agenda(event, items) -> None:
    if event.agenda_items.exists():
        return
    for day_part, starts, ends, title, kind, speakers in items:
        item = AgendaItem.objects.create(
            event=event,
            day_part=day_part,
            starts=dt.time.fromisoformat(starts),
            ends=dt.time.fromisoformat(ends),
            title=title,
            kind=kind,
        )
        item.speakers.set(speakers)


def _team(name: str, organizer_email: str) -> Team:
    team, _ = Team.objects.get_or_create(name=name)
    team.members.add(User.objects.get(email=organizer_email))
    return team


def _county_board_members(password: str) -> list[User]:
    # Eight boards with four people each, and one more from Västerbotten.
    codes = ["01", "03", "04", "05", "06", "07", "08", "12"]
    boards = {board.official_code: board for board in Organization.objects.filter(kind="county_board")}
    people = []
    for index, name in enumerate(SWEDISH_NAMES):
        board = boards[codes[index % 8]] if index < 32 else boards["24"]
        email = f"{name.lower().replace(' ', '.')}@lansstyrelsen.se"
        for letter, plain in (("å", "a"), ("ä", "a"), ("ö", "o")):
            email = email.replace(letter, plain)
        user = User.objects.filter(email=email).first() or User.objects.create_user(email, password)
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        member_services.update_profile(
            user,
            organization=board,
            full_name=name,
            role=SWEDISH_ROLES[index % len(SWEDISH_ROLES)],
            job_title="Handläggare",
            preferred_language="sv",
        )
        people.append(user)
    return people


def seed(password: str) -> list[str]:
    """Create or update the demo events; returns lines to print."""
    today = timezone.localdate()
    now = timezone.now()
    load_themes(Theme)
    # Each organizer sees only the events of their team: KL's organizer the Danish meetings,
    # the county boards' organizer the Swedish workshop.
    kl_team = _team("KL – grøn mobilitet", "organizer@kl.dk")
    county_team = _team("Länsstyrelserna – Klimatsmarta länstransportplaner", "organizer@lansstyrelsen.se")

    kl = _contact("Karen Holm", "organizer@kl.dk", "KL", "+45 3370 3370")
    kl_series, _ = Series.objects.update_or_create(
        slug="kommunernes-netvaerk-om-groen-mobilitet",
        defaults={
            "title": "Kommunernes netværk om grøn mobilitet",
            "summary": "KL's netværk for kommunale chefer og medarbejdere med ansvar for grøn mobilitet.",
            "description": KL_DESCRIPTION,
            "organizing_bodies": "KL – Kommunernes Landsforening",
            "team": kl_team,
        },
    )
    kl_series.contacts.set([kl])

    meeting_day = _next(10, 27, today)
    charging, created = _event(
        "netvaerksmode-ladeinfrastruktur",
        title="Netværksmøde: Udrulning af ladeinfrastruktur",
        series=kl_series,
        team=kl_team,
        main_theme=_theme("charging-infrastructure"),
        summary="Hvordan kommunerne kan planlægge og udrulle ladeinfrastruktur til elbiler.",
        description=KL_DESCRIPTION,
        audience=["manager", "specialist", "transport_planner", "climate_energy_strategist"],
        format=Event.Format.IN_PERSON,
        language="da",
        registration_opens_at=now - dt.timedelta(days=7),
        registration_closes_at=_local(meeting_day - dt.timedelta(days=7), 12),
        cancellation_deadline=_local(meeting_day - dt.timedelta(days=3), 12),
        status=Event.Status.PUBLISHED,
    )
    charging.themes.set([_theme("combining-modes")])
    charging.contacts.set([kl])
    _occasion(
        charging,
        meeting_day.strftime("%d.%m.%Y"),
        40,
        [(_local(meeting_day, 10), _local(meeting_day, 15, 30))],
        venue="KL-huset",
        address="Weidekampsgade 10\n2300 København S",
    )
    _agenda(
        charging,
        [
            (1, "10:00", "10:15", "Velkomst og introduktion til netværket", KIND.ORGANIZER_TALK,
             [_speaker("Karen Holm", "KL")]),
            (1, "10:15", "11:00", "Status på udrulning af offentlig ladeinfrastruktur", KIND.EXTERNAL_TALK,
             [_speaker("Mads Winther", "Energistyrelsen")]),
            (1, "11:00", "11:45", "Sådan udbød vi ladestandere i kommunen", KIND.MEMBER_TALK,
             [_speaker("Jens Kristensen", "Aarhus Kommune")]),
            (1, "11:45", "12:30", "Frokost", KIND.BREAK, []),
            (1, "12:30", "14:00", "Workshop: kommunens rolle i ladeplanen", KIND.WORKSHOP, []),
            (1, "14:00", "15:00", "Tværgående drøftelse og sparring", KIND.DISCUSSION, []),
            (1, "15:00", "15:30", "Netværk og afrunding", KIND.NETWORKING, []),
        ],
    )  # fmt: skip
    lifecycle.refresh_schedule(charging)
    if not charging.published_at:
        charging.published_at = now
        charging.save(update_fields=["published_at"])

    past_day = today - dt.timedelta(days=60)
    cycling, _ = _event(
        "netvaerksmode-cykelinfrastruktur",
        title="Netværksmøde: Cykelinfrastruktur",
        series=kl_series,
        team=kl_team,
        main_theme=_theme("cycling"),
        summary="Erfaringer med cykelstier, cykelparkering og sammenhæng til kollektiv transport.",
        description="Oplæg og drøftelser om kommunal cykelinfrastruktur.",
        audience=["transport_planner", "specialist"],
        format=Event.Format.HYBRID,
        language="da",
        registration_opens_at=_local(past_day - dt.timedelta(days=40), 9),
        registration_closes_at=_local(past_day - dt.timedelta(days=7), 12),
        status=Event.Status.PUBLISHED,
        published_at=now - dt.timedelta(days=100),
    )
    _occasion(cycling, past_day.strftime("%d.%m.%Y"), 40, [(_local(past_day, 10), _local(past_day, 15))],
              venue="Odense Rådhus", address="Flakhaven 2\n5000 Odense C")  # fmt: skip
    lifecycle.refresh_schedule(cycling)
    Document.objects.get_or_create(
        event=cycling, title="Slides fra mødet (PDF)", defaults={"url": "https://www.kl.dk/"}
    )

    se_contacts = [
        _contact("Maria Ek", "organizer@lansstyrelsen.se", "Länsstyrelsen i Skåne län"),
        _contact("Lena Borg", "lena.borg@lansstyrelsen.se", "Länsstyrelsen i Västerbottens län"),
    ]
    se_series, _ = Series.objects.update_or_create(
        slug="klimatsmarta-lanstransportplaner",
        defaults={
            "title": "Klimatsmarta länstransportplaner och samhällsplanering 2.0",
            "summary": "Ett samarbete mellan RUS och LEKS.",
            "description": SE_SERIES_DESCRIPTION,
            "organizing_bodies": "RUS och LEKS",
            "team": county_team,
        },
    )
    se_series.contacts.set(se_contacts)
    Document.objects.get_or_create(
        series=se_series,
        title="Hur kan vi göra länstransportplanerna mer klimatsmarta? (rapport, 2018)",
        defaults={"url": "https://www.lansstyrelsen.se/"},
    )
    first = _next(11, 4, today)
    workshop, _ = _event(
        "workshop-klimatsmarta-lanstransportplaner",
        title="Workshop: Klimatsmarta länstransportplaner och samhällsplanering",
        series=se_series,
        team=county_team,
        main_theme=_theme("climate-smart-planning"),
        summary="Transporter och fysisk planering: tre digitala tillfällen, lunch till lunch.",
        description=SE_DESCRIPTION,
        audience=[
            "climate_energy_strategist",
            "environmental_objectives_coordinator",
            "community_planner",
            "transport_planner",
            "infrastructure_strategist",
        ],  # fmt: skip
        format=Event.Format.ONLINE,
        language="sv",
        registration_opens_at=now - dt.timedelta(days=14),
        registration_closes_at=_local(first - dt.timedelta(days=5), 12),
        cancellation_deadline=_local(first - dt.timedelta(days=5), 12),
        organization_quota=4,
        status=Event.Status.PUBLISHED,
    )
    workshop.contacts.set(se_contacts)
    occasions = []
    for label, day in (
        ("4–5 november", first),
        ("25–26 november", first.replace(day=25)),
        ("2–3 december", dt.date(first.year, 12, 2)),
    ):
        following = day + dt.timedelta(days=1)
        occasions.append(
            _occasion(
                workshop,
                label,
                28,
                [(_local(day, 13), _local(day, 16, 30)), (_local(following, 9), _local(following, 12))],
                online_url=f"https://meet.example.org/klimatsmarta-{day:%m%d}",
            )
        )
    _agenda(
        workshop,
        [
            (1, "13:00", "13:20", "Välkommen och syfte", KIND.ORGANIZER_TALK,
             [_speaker("Maria Ek", "Länsstyrelsen i Skåne län")]),
            (1, "13:20", "14:20", "Så fungerar nationell plan och länstransportplaner", KIND.EXTERNAL_TALK,
             [_speaker("Oskar Lind", "Trafikverket")]),
            (1, "14:20", "14:40", "Paus", KIND.BREAK, []),
            (1, "14:40", "16:30", "Gruppdiskussion: hur samverkar planerna?", KIND.DISCUSSION, []),
            (2, "09:00", "09:45", "Den strategiska miljöbedömningens roll", KIND.EXTERNAL_TALK,
             [_speaker("Sara Nord", "Naturvårdsverket")]),
            (2, "09:45", "11:15", "Övning: intern samverkan på vår länsstyrelse", KIND.WORKSHOP, []),
            (2, "11:15", "12:00", "Summering och fortsättning", KIND.DISCUSSION, []),
        ],
    )  # fmt: skip
    lifecycle.refresh_schedule(workshop)
    if not workshop.published_at:
        workshop.published_at = now
        workshop.save(update_fields=["published_at"])

    lines = []
    if not Registration.objects.filter(event=workshop).exists():
        board_members = _county_board_members(password)
        # 28 fill the first occasion, four more go to the second: eight boards use their four
        # seats. The one from Västerbotten waits for the full first occasion, and Stockholm's
        # fifth colleague waits because the board's seats are used.
        for person in board_members[:28]:
            registrations.register(person, occasions[0], listed=True)
        for person in board_members[28:32]:
            registrations.register(person, occasions[1], listed=True)
        registrations.register(board_members[32], occasions[0], listed=True)
        registrations.register(
            User.objects.get(email="klimat.stockholm@lansstyrelsen.se"), occasions[1], listed=True
        )
        lines.append(
            f"  and {len(board_members)} county board members (same password) in the Swedish workshop"
        )
    if not Registration.objects.filter(event=charging).exists():
        for email in ("mobility@aarhus.dk", "klima@kk.dk", "cykel@odense.dk"):
            registrations.register(User.objects.get(email=email), charging.occasions.get(), listed=True)
    if not Registration.objects.filter(event=cycling).exists():
        _held(cycling, kl_team, past_day)
    return lines


def _held(event: Event, team: Team, day: dt.date) -> None:
    """The past meeting as its organizers left it: who came (Copenhagen did not) and two of
    the participants' evaluations, for the Network page and the evaluation results."""
    occasion = event.occasions.get()
    organizer = team.members.get(email="organizer@kl.dk")
    registered_at = _local(day - dt.timedelta(days=14), 10)
    people = [
        User.objects.get(email=email) for email in ("mobility@aarhus.dk", "klima@kk.dk", "cykel@odense.dk")
    ]
    taken = [registrations.register(person, occasion, at=registered_at) for person in people]
    attendance.record(
        occasion,
        {taken[0].pk: True, taken[1].pk: False, taken[2].pk: True},
        organizer=organizer,
        at=_local(day, 16),
    )
    answers = [
        (taken[0], 5, "Cykelparkering ved stationerne", "Delecykler"),
        (taken[2], 4, "", "Ladcykler i kommunen"),
    ]
    for registration, rating, take_home, wish in answers:
        evaluations.evaluate(
            registration,
            rating=rating,
            item_ratings={},
            take_home=take_home,
            theme_wish=wish,
            at=_local(day, 17),
        )
