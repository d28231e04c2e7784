from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import PersonTextModel


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_email_domain(self, domain: str):
        """Organizations whose domains cover `domain`, including its subdomains
        (someone@teknik.aarhus.dk belongs to aarhus.dk)."""
        domain = domain.strip().lower().rstrip(".")
        parts = domain.split(".")
        candidates = [".".join(parts[i:]) for i in range(len(parts) - 1)]
        return self.active().filter(domains__domain__in=candidates).distinct()


class Organization(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        REGION = "region", _("Region")
        COUNTY_BOARD = "county_board", _("County administrative board")
        NATIONAL_AGENCY = "national_agency", _("National agency")
        OTHER = "other", _("Other")

    class Country(models.TextChoices):
        DENMARK = "DK", _("Denmark")
        SWEDEN = "SE", _("Sweden")
        OTHER = "XX", _("Other country")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    official_code = models.CharField(
        _("official code"),
        max_length=10,
        blank=True,
        help_text=_("Municipality, region or county number from the national register."),
    )
    county_letter = models.CharField(
        _("county letter"), max_length=2, blank=True, help_text=_("Swedish county letter, e.g. AB.")
    )
    region = models.CharField(
        _("region or county"),
        max_length=100,
        blank=True,
        help_text=_("The Danish region or Swedish county the organization lies in, e.g. Region Midtjylland."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["country", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "kind", "official_code"],
                condition=~models.Q(official_code=""),
                name="organization_unique_official_code",
                violation_error_message=_(
                    "There is already an organization of this kind with this official code in this country."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


# The language an organization's name is written in, for sorting names as that language does.
COUNTRY_LANGUAGES = {Organization.Country.DENMARK: "da", Organization.Country.SWEDEN: "sv"}


class OrganizationDomain(models.Model):
    """An email domain of an organization. One domain may serve several organizations: all
    Swedish county administrative boards share lansstyrelsen.se."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="domains", verbose_name=_("organization")
    )
    domain = models.CharField(_("domain"), max_length=253, db_index=True)

    class Meta:
        verbose_name = _("email domain")
        verbose_name_plural = _("email domains")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"],
                name="organization_domain_unique",
                violation_error_message=_("This organization already has this email domain."),
            )
        ]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(PersonTextModel, AbstractBaseUser, PermissionsMixin):
    """A member of the network. The email address is the login; the profile fields live here
    so that seat quotas can read the organization without a join."""

    # Normalized and refused when invisible on every validation (members.text), admin too.
    person_text_fields = ("full_name", "job_title", "phone")

    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        SPECIALIST = "specialist", _("Employee or specialist")
        CLIMATE_ENERGY_STRATEGIST = "climate_energy_strategist", _("Climate and energy strategist")
        ENVIRONMENTAL_OBJECTIVES_COORDINATOR = (
            "environmental_objectives_coordinator",
            _("Environmental objectives coordinator"),
        )
        COMMUNITY_PLANNER = "community_planner", _("Community planner")
        TRANSPORT_PLANNER = "transport_planner", _("Transport planner or strategist")
        INFRASTRUCTURE_STRATEGIST = "infrastructure_strategist", _("Infrastructure strategist")
        OTHER = "other", _("Other")

    # Roles that exist in one country's administration only: the environmental objectives
    # (miljömål) coordinators are a Swedish office; a Danish municipality has none to offer.
    ROLE_COUNTRIES = {Role.ENVIRONMENTAL_OBJECTIVES_COORDINATOR: {Organization.Country.SWEDEN}}

    @classmethod
    def roles_for_country(cls, country: str | None) -> list[tuple[str, str]]:
        """The role choices for a member of an organization in `country` (all without one)."""
        return [
            (value, label)
            for value, label in cls.Role.choices
            if not country or country in cls.ROLE_COUNTRIES.get(value, {country})
        ]

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("organization"),
    )
    organization_verified_at = models.DateTimeField(
        _("organization verified at"),
        null=True,
        blank=True,
        help_text=_("Set when the email domain or an organizer confirmed the membership."),
    )
    organization_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization verified by"),
        help_text=_("The organizer who verified it; empty when the email domain proved it."),
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    is_organization_coordinator = models.BooleanField(
        _("organization coordinator"),
        default=False,
        help_text=_("May register, move and cancel verified colleagues within the organization's seats."),
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Organizers: may log in to the administration."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def organization_verified(self) -> bool:
        return self.organization_id is not None and self.organization_verified_at is not None

    @property
    def profile_complete(self) -> bool:
        return bool(self.full_name and self.organization_id and self.role)


class TeamQuerySet(models.QuerySet):
    def of(self, user) -> "TeamQuerySet":
        """The teams `user` belongs to."""
        return self.filter(members=user)


class Team(models.Model):
    """A group of organizers who run a set of events and series together (as pretix's teams
    do). An organizer sees and changes only what their teams own; a superuser sees all."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    members = models.ManyToManyField(
        User,
        blank=True,
        related_name="organizer_teams",
        verbose_name=_("organizers"),
        limit_choices_to={"is_staff": True},
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("organizer team")
        verbose_name_plural = _("organizer teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
