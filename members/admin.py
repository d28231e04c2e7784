import functools

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .admin_erasure import AccountErasureAdminMixin
from .models import Organization, OrganizationDomain, User


class OrganizationDomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "region", "official_code", "county_letter", "is_active"]
    list_filter = ["country", "kind", "region", "is_active"]
    search_fields = ["name", "official_code", "domains__domain"]
    inlines = [OrganizationDomainInline]


class MembershipVerifiedFilter(admin.SimpleListFilter):
    title = _("organization membership")
    parameter_name = "membership"

    def lookups(self, request, model_admin):
        return [("verified", _("Verified")), ("unverified", _("Awaiting verification"))]

    def queryset(self, request, queryset):
        if self.value() == "verified":
            return queryset.filter(organization__isnull=False, organization_verified_at__isnull=False)
        if self.value() == "unverified":
            return queryset.filter(organization__isnull=False, organization_verified_at__isnull=True)
        return queryset


class UserCreationAdminForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AccountErasureAdminMixin, DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["email"]
    list_display = ["email", "full_name", "organization", "membership_verified", "role", "is_staff"]
    list_filter = [
        MembershipVerifiedFilter,
        "organization__country",
        "role",
        "is_organization_coordinator",
        "is_staff",
        "is_active",
    ]
    search_fields = ["email", "full_name", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["organization_verified_at", "organization_verified_by", "last_login", "date_joined"]
    # Who may grant what: organizers verify members and mark coordinators; only a superuser
    # hands out staff status, groups and permissions (else an organizer could make
    # themselves superuser).
    _PRIVILEGES = ["is_staff", "is_superuser", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # The email address is the login: changing it, then asking for a password reset,
            # would take the account over.
            fields += [*self._PRIVILEGES, "email"]
        return fields

    def has_change_permission(self, request, obj=None):
        # Organizers manage members, not other staff: no editing of staff or superuser accounts.
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # Members reset their own passwords; only a superuser sets one for somebody else.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_actions(self, request):
        # Every action, whoever adds it, obeys the rules of the change form: a list action
        # must not change the accounts whose change form this organizer cannot open.
        return {
            name: (self._on_changeable_users_only(function), name, description)
            for name, (function, _name, description) in super().get_actions(request).items()
        }

    def _on_changeable_users_only(self, action):
        @functools.wraps(action)
        def run(modeladmin, request, queryset):
            selected = list(queryset)
            allowed = [user.pk for user in selected if self.has_change_permission(request, user)]
            refused = len(selected) - len(allowed)
            if refused:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d selected account was not changed: you may not change it.",
                        "%(count)d selected accounts were not changed: you may not change them.",
                        refused,
                    )
                    % {"count": refused},
                    messages.WARNING,
                )
            if not allowed:
                return None
            return action(modeladmin, request, queryset.filter(pk__in=allowed))

        return run

    def save_model(self, request, obj, form, change):
        if not (change and "organization" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # The organization changes only through members.services, which decides verification
        # (the organizer choosing it vouches for it) and drops coordinator rights given for the
        # old one.
        chosen = obj.organization
        granted_now = "is_organization_coordinator" in form.changed_data and obj.is_organization_coordinator
        obj.organization_id = form.initial.get("organization")
        super().save_model(request, obj, form, change)
        services.set_organization(obj, chosen, by=request.user)
        if granted_now:
            # Ticked in this same save, so given for the new organization.
            obj.is_organization_coordinator = True
            obj.save(update_fields=["is_organization_coordinator"])
        elif form.initial.get("is_organization_coordinator"):
            self.message_user(
                request,
                _("%(user)s is no longer a coordinator: that was for the previous organization.")
                % {"user": obj},
                messages.WARNING,
            )

    actions = ["verify_membership", "revoke_verification", "erase_accounts"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Profile"),
            {
                "fields": [
                    "full_name",
                    "organization",
                    "role",
                    "job_title",
                    "phone",
                    "preferred_language",
                    "is_organization_coordinator",
                ]
            },
        ),
        (_("Organization membership"), {"fields": ["organization_verified_at", "organization_verified_by"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    @admin.display(boolean=True, description=_("membership verified"))
    def membership_verified(self, user):
        return user.organization_verified

    @admin.action(description=_("Verify organization membership of selected users"))
    def verify_membership(self, request, queryset):
        done = sum(services.verify_membership(user, organizer=request.user) for user in queryset)
        self.message_user(
            request,
            ngettext("Verified %(count)d membership.", "Verified %(count)d memberships.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Revoke organization verification of selected users"))
    def revoke_verification(self, request, queryset):
        for user in queryset:
            services.revoke_verification(user)
        self.message_user(request, _("Verification revoked."), messages.SUCCESS)


# Organizer teams have an admin of their own module.
from . import admin_teams  # noqa: E402, F401
