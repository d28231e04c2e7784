"""The portal's admin site: every model admin registered on it, the portal's and third-party
ones alike, accepts only the changelist lookups its own filters offer.

Django admin applies any lookup on a model's own fields that a changelist's query string names
(`?body_text__regex=^a`), so a field hidden from the change form still answers yes/no questions
one character at a time. A hidden field is not a secret field; a refused lookup is.

Every model admin also answers values its fields cannot hold with a message instead of a 500
(Django itself puts them into queries or dates, which raise): autocomplete fields of the admin
and its inlines re-render only valid values (`organization=abc` got a ValueError), an action on a
selection holding a non-id (`_selected_action=abc`) changes nothing, and a date-hierarchy year
past the calendar (`starts_at__year=99999999999999999999`) is an invalid filter.
"""

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext as _


def _field_path(model, lookup: str) -> str:
    """The field path a lookup filters on, without its transforms and lookup type:
    `event__id__exact` → `event`, `created_at__year` → `created_at`, `body_text__regex` →
    `body_text`, an unknown name (a simple filter's parameter) → itself."""
    path = []
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        if path and field.primary_key and not field.is_relation:
            break  # event__id is the event
        path.append(part)
        if not field.is_relation:
            break
        model = field.related_model
    return LOOKUP_SEP.join(path) or lookup


class StrictLookupsMixin:
    """Allow a changelist lookup only on what list_filter, date_hierarchy or
    `extra_lookups` name; everything else in a query string is refused (Django answers 400)."""

    extra_lookups: tuple[str, ...] = ()

    def allowed_lookup_paths(self, request) -> set[str]:
        allowed = set(self.extra_lookups)
        if self.date_hierarchy:
            allowed.add(self.date_hierarchy)
        for item in self.get_list_filter(request) if request is not None else self.list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                allowed.add(item.parameter_name)
            elif isinstance(item, (list, tuple)):
                allowed.add(item[0])
            else:
                allowed.add(item)
        return allowed

    def lookup_allowed(self, lookup, value, request=None):
        if not super().lookup_allowed(lookup, value, request):
            return False
        return _field_path(self.model, lookup) in self.allowed_lookup_paths(request)


def _holds(field, value) -> bool:
    """Whether a model field can hold a submitted value: to_python refuses "abc" for an id, the
    validators a number past the column's range."""
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True


class _ValidValuesOnly:
    """Show again only the submitted values the related field can hold. The form refuses the
    others itself ("Select a valid choice"); the widget must only not query with them."""

    def optgroups(self, name, value, attr=None):
        opts = self.field.remote_field.model._meta
        target = opts.get_field(getattr(self.field.remote_field, "field_name", opts.pk.attname))
        return super().optgroups(name, [item for item in value if _holds(target, item)], attr)


class SafeAutocompleteSelect(_ValidValuesOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidValuesOnly, AutocompleteSelectMultiple):
    pass


_safe_inlines: dict[type, type] = {}


def _with_safe_autocomplete(inline_class: type) -> type:
    if issubclass(inline_class, SafeAutocompleteMixin):
        return inline_class
    if inline_class not in _safe_inlines:
        _safe_inlines[inline_class] = type(
            inline_class.__name__,
            (SafeAutocompleteMixin, inline_class),
            {"__module__": inline_class.__module__, "__doc__": inline_class.__doc__},
        )
    return _safe_inlines[inline_class]


class SafeAutocompleteMixin:
    """Autocomplete fields of a model admin or an inline use the widgets above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SafeInputMixin(SafeAutocompleteMixin):
    """A model admin's answers to submitted values its fields cannot hold (see the module)."""

    def get_inlines(self, request, obj):
        return [_with_safe_autocomplete(inline) for inline in super().get_inlines(request, obj)]

    def response_action(self, request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if not all(_holds(self.model._meta.pk, value) for value in selected):
            # None makes the changelist redirect back with the message.
            self.message_user(
                request,
                _("The selection holds items that do not exist. Nothing was changed."),
                messages.ERROR,
            )
            return None
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request):
        if self.date_hierarchy and not self._date_hierarchy_in_range(request):
            raise IncorrectLookupParameters  # the changelist redirects with ?e=1
        return super().get_changelist_instance(request)

    def _date_hierarchy_in_range(self, request) -> bool:
        # Django turns year, month and day into a date, adds a year, a month or a day to it and
        # converts it to UTC: at either end of the calendar that overflows instead of being an
        # invalid filter.
        parts = [request.GET.getlist(f"{self.date_hierarchy}__{part}") for part in ("year", "month", "day")]
        if not parts[0]:
            return True
        try:
            year, month, day = (int(values[-1]) if values else 1 for values in parts)
            dt.date(year, month, day)
        except (ValueError, OverflowError):
            return False
        return dt.MINYEAR < year < dt.MAXYEAR


class PortalAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        mixins = tuple(
            mixin for mixin in (StrictLookupsMixin, SafeInputMixin) if not issubclass(admin_class, mixin)
        )
        if mixins:
            admin_class = type(
                admin_class.__name__,
                (*mixins, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
