"""Issue 8, hole 10: a person's free text (names, job titles, phone numbers, needs) holds no
invisible or bidirectional control characters, and a required one is not blank."""

import pytest
from django.urls import reverse

from events.models import ContactPerson, Registration, Speaker
from members import text
from members.models import User
from tests import factories
from tests.conftest import sign_up_and_confirm

ZWSP = "\u200b"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "gnp.exe" then reads "exe.png"
INVISIBLE = "This contains only invisible characters. Type it with letters or digits."


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Jens Kristensen", "Jens Kristensen"),
        ("  Jens \t\n Kristensen  ", "Jens Kristensen"),
        (f"Jens {RLO}Kristensen", "Jens Kristensen"),
        (f"{ZWSP}Jens{ZWSP} Kristensen\ufeff", "Jens Kristensen"),
        ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200c\u200d\u200e\u200fÅse", "Åse"),
        ("A\u0308sa", "Äsa"),  # decomposed, as some keyboards send it: one NFC form
        ("Jens\x00\x07 Kristensen", "Jens Kristensen"),
        ("Ole\u00a0Hansen", "Ole Hansen"),
        ("\u3164\u2800", ""),
    ],
)
def test_person_text_is_stored_in_one_visible_form(typed, stored):
    assert text.normalize(typed) == stored


def test_a_required_value_of_invisible_characters_is_refused_and_an_optional_one_emptied():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        text.clean(ZWSP * 3, required=True)
    assert refused.value.code == "invisible"
    assert text.clean(ZWSP, required=False) == ""


# --- the member's profile ---------------------------------------------------------------------


def _profile(aarhus, **changes) -> dict:
    return {
        "full_name": "Ny Planlægger",
        "organization": aarhus.pk,
        "role": "transport_planner",
        "job_title": "Mobilitetsplanlægger",
        "phone": "+45 12 34 56 78",
        "preferred_language": "da",
        **changes,
    }


def test_it_refuses_a_name_of_only_zero_width_spaces_next_to_the_field_and_saves_nothing(client, aarhus):
    user = sign_up_and_confirm(client, "new@aarhus.dk")
    response = client.post(reverse("members:edit"), _profile(aarhus, full_name=ZWSP * 4, job_title="Planner"))
    assert response.status_code == 200
    assert response.context["form"].errors["full_name"] == [INVISIBLE]
    assert INVISIBLE in response.text
    user.refresh_from_db()
    assert user.full_name == "" and user.job_title == "" and user.role == ""


def test_it_removes_bidirectional_overrides_from_name_job_title_and_phone(client, aarhus):
    user = sign_up_and_confirm(client, "new@aarhus.dk")
    response = client.post(
        reverse("members:edit"),
        _profile(
            aarhus,
            full_name=f"Ny {RLO}Planlægger",
            job_title=f"{RLO}Planner\u202c",
            phone=f"+45 12{ZWSP} 34 56 78{RLO}",
        ),
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Ny Planlægger"
    assert user.job_title == "Planner"
    assert user.phone == "+45 12 34 56 78"


# --- registrations ----------------------------------------------------------------------------


def test_it_removes_bidirectional_overrides_from_needs_when_registering(client, member):
    event = factories.event(event_format="in_person")
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]),
        {
            "occasion": event.occasions.get().pk,
            "diet": f"{RLO}Vegan, no nuts",
            "accessibility": f"Wheelchair{ZWSP}\u2066 access\u2069",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    registration = Registration.objects.get(user=member)
    assert registration.diet == "Vegan, no nuts"
    assert registration.accessibility == "Wheelchair access"


def test_needs_of_only_invisible_characters_are_empty(client, member):
    event = factories.event(event_format="in_person")
    client.force_login(member)
    client.post(
        reverse("events:register", args=[event.slug]),
        {"occasion": event.occasions.get().pk, "diet": RLO, "accessibility": ZWSP * 2},
    )
    registration = Registration.objects.get(user=member)
    assert registration.diet == "" and registration.accessibility == ""


# --- admin ------------------------------------------------------------------------------------


def _user_change_data(user: User, **changes) -> dict:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "organization": user.organization_id,
        "role": user.role,
        "job_title": user.job_title,
        "phone": user.phone,
        "preferred_language": "en",
        "is_active": "on",
        **changes,
    }


def test_the_user_admin_removes_overrides_from_a_members_name(client, organizer, member):
    client.force_login(organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    response = client.post(url, _user_change_data(member, full_name=f"Jens {RLO}Kristensen{ZWSP}"))
    assert response.status_code == 302, response.text[:3000]
    member.refresh_from_db()
    assert member.full_name == "Jens Kristensen"


def test_the_user_admin_stores_an_invisible_name_as_no_name(client, organizer, member):
    # In admin the name is optional (staff accounts may have none); an invisible one is stored
    # as none, so the account shows its email and the member is asked for a name again.
    client.force_login(organizer)
    url = reverse("admin:members_user_change", args=[member.pk])
    assert client.post(url, _user_change_data(member, full_name=ZWSP * 2)).status_code == 302
    member.refresh_from_db()
    assert member.full_name == "" and str(member) == member.email
    assert not member.profile_complete


def test_the_admin_refuses_a_required_name_of_only_invisible_characters_and_saves_nothing(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:events_contactperson_add"),
        {"name": ZWSP + RLO, "email": "contact@kl.dk", "phone": "", "organization": "KL"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [INVISIBLE]
    assert not ContactPerson.objects.exists()


def test_the_registration_admin_removes_overrides_from_needs(client, superuser, member):
    from events.services import registrations

    event = factories.event(event_format="in_person")
    registration = registrations.register(member, event.occasions.get(), diet="Vegan")
    client.force_login(superuser)
    url = reverse("admin:events_registration_change", args=[registration.pk])
    management = {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0"}  # the read-only log inline
    response = client.post(
        url, {"diet": f"{RLO}Vegetarian", "accessibility": f"{ZWSP}Hearing loop", **management}
    )
    assert response.status_code == 302, response.text[:3000]
    registration.refresh_from_db()
    assert registration.diet == "Vegetarian" and registration.accessibility == "Hearing loop"


def test_contact_and_speaker_names_are_refused_when_invisible_and_cleaned_otherwise(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        ContactPerson(name=ZWSP, email="contact@kl.dk").full_clean()
    assert refused.value.message_dict["name"] == [INVISIBLE]
    speaker = Speaker(name=f"Anna {RLO}Berg")
    speaker.full_clean()
    assert speaker.name == "Anna Berg"


def test_exports_show_text_stored_before_the_rule_without_overrides(client, organizer, member):
    """Rows saved before the rule (or by code that skipped the forms) still reach the exports;
    the export cells follow the same rule."""
    from events.services import registrations

    event = factories.event(event_format="in_person")
    registration = registrations.register(member, event.occasions.get())
    Registration.objects.filter(pk=registration.pk).update(diet=f"{RLO}nagev")
    User.objects.filter(pk=member.pk).update(full_name=f"Jens {RLO}Kristensen")
    client.force_login(organizer)
    response = client.get(reverse("admin:events_event_participants_csv", args=[event.pk]))
    assert response.status_code == 200
    content = response.content.decode("utf-8-sig")
    assert RLO not in content
    assert "Jens Kristensen" in content and "nagev" in content
