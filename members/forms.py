from django import forms
from django.utils.translation import gettext_lazy as _

from network_portal.collation import sorted_by_name

from .models import COUNTRY_LANGUAGES, Organization, User
from .text import PersonTextField


def _grouped_choices(organizations) -> list:
    """Organizations grouped by country and kind, so a long list stays usable without
    JavaScript (the browser's own select with option groups). Within a group the names sort as
    their country's language does (Länsstyrelsen i Örebro län before Östergötlands, both after
    z), which neither SQLite nor every PostgreSQL locale does."""
    groups: dict[str, list] = {}
    for organization in organizations.order_by("country", "kind"):
        label = f"{organization.get_country_display()} – {organization.get_kind_display()}"
        groups.setdefault(label, []).append(organization)
    return [
        ("", "---------"),
        *(
            (label, [(organization.pk, organization.name) for organization in _by_name(members)])
            for label, members in groups.items()
        ),
    ]


def _by_name(organizations: list[Organization]) -> list[Organization]:
    language = COUNTRY_LANGUAGES.get(organizations[0].country) if organizations else None
    return sorted_by_name(organizations, lambda organization: organization.name, language)


_ROLE_OF_ANOTHER_COUNTRY = _(
    "Choose a role from the list: it shows the roles of your organization’s country."
)


class ProfileForm(forms.ModelForm):
    organization = forms.TypedChoiceField(
        label=_("Organization"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose one of the organizations in the list.")},
    )

    class Meta:
        model = User
        fields = ["full_name", "organization", "role", "job_title", "phone", "preferred_language"]
        # The view saves cleaned_data through members.services, so the rule of members.text
        # must hold there, not only on the model.
        field_classes = dict.fromkeys(User.person_text_fields, PersonTextField)
        help_texts = {
            "phone": _("Optional. Organizers may call on the day of a meeting."),
            "job_title": _("As on your email signature, e.g. Mobility planner."),
        }

    def __init__(self, *args, organizations, proven_by_domain: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self._organizations = organizations
        field = self.fields["organization"]
        field.choices = _grouped_choices(organizations)
        field.initial = self.instance.organization_id
        if proven_by_domain and self.instance.organization_id and organizations.count() > 1:
            # members.services: on a shared domain only the first pick counts as verified.
            field.help_text = _(
                "Your verified email address shows you work at one of these. A change to "
                "another one applies to organization seats once an organizer confirms it."
            )
        elif proven_by_domain:
            field.help_text = _("Your verified email address shows you work at one of these.")
        else:
            field.help_text = _(
                "Your email domain does not identify your organization, so an organizer will "
                "verify your membership before organization seats apply."
            )
        for name in ("full_name", "role"):
            self.fields[name].required = True
        country = self.instance.organization.country if self.instance.organization_id else None
        role = self.fields["role"]
        role.choices = [("", "---------"), *User.roles_for_country(country)]
        role.error_messages["invalid_choice"] = _ROLE_OF_ANOTHER_COUNTRY
        self.fields["preferred_language"].required = True

    def clean_organization(self) -> Organization:
        pk = self.cleaned_data["organization"]
        try:
            return self._organizations.get(pk=pk)
        except Organization.DoesNotExist:
            raise forms.ValidationError(_("Choose one of the organizations in the list.")) from None

    def clean(self):
        data = super().clean()
        organization, role = data.get("organization"), data.get("role")
        if (
            organization is not None
            and role
            and role not in dict(User.roles_for_country(organization.country))
        ):
            self.add_error("role", _ROLE_OF_ANOTHER_COUNTRY)
        return data

    def _post_clean(self):
        # The organization goes through members.services, not straight onto the model.
        organization = self.cleaned_data.pop("organization", None)
        super()._post_clean()
        if organization is not None:
            self.cleaned_data["organization"] = organization
