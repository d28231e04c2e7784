from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Organization, OrganizationDomain, User


class OrganizationDomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "official_code", "county_letter", "is_active"]
    list_filter = ["country", "kind", "is_active"]
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
class UserAdmin(DjangoUserAdmin):
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

    actions = ["verify_membership", "revoke_verification"]
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
