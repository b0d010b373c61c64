"""The device list's filters, shared by the list page, its CSV export and the API.

One FilterSet, so a script and a person asking the same question get the same devices. The
parameters: `q` (name, serial number, model, product name or host), `folder` (a visible folder's
id), `include_subfolders`, `model`, `firmware_version`, `status` (repeatable),
`upgrade_recommended` (the upgrades app answers it through `devices.extensions`) and `ordering`
(a column name, `-` for descending). Every filter narrows a queryset that already starts from
`selectors.visible_devices(membership)`; the folder is checked against the member's visible
folders, so another tenant's folder, or one outside the grants, is refused like a made-up id.
"""

import uuid
from collections.abc import Iterable

import django_filters
from django import forms
from django.db.models import CharField, F, Func, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid, NotFound
from common.forms import BootstrapFieldsMixin
from devices import extensions
from devices.models import Device
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership

SEARCH_MAX_LENGTH = 100
# What `q` looks in. Order and spelling are those of the trigram index (migration 0007).
SEARCH_COLUMNS = ("name", "serial_number", "product_number", "product_name", "host")


class SpaceJoined(Func):
    """Text columns joined by spaces: `a || ' ' || b`, the expression the trigram index holds."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = CharField()


# Every column's match is a match here, so the index finds each candidate; a term spanning two
# columns matches here alone, so the columns themselves decide (filter_search).
SEARCH_TEXT = SpaceJoined(*SEARCH_COLUMNS)

# Column name → what it sorts by; the device id last, so pages never repeat or skip a device.
ORDERING_FIELDS = {
    "name": ("name",),
    "status": ("status",),
    "model": ("product_number",),
    "firmware_version": ("firmware_version",),
    "address": ("host", "port"),
    "folder": ("folder__name",),
    "last_seen": ("last_seen_at",),
    "serial_number": ("serial_number",),
}


TRUE_SPELLINGS = ("1", "true", "yes", "on")
FALSE_SPELLINGS = ("", "0", "false", "no", "off")


class FlagInput(forms.CheckboxInput):
    """A checkbox that also reads the spellings of yes and no a script sends (`true`, `0`, …).

    Anything else is handed to the field as it came, which refuses it.
    """

    def value_from_datadict(self, data, files, name) -> bool | str:
        value = data.get(name)
        if value is None:
            return False
        spelled = str(value).strip().lower()
        if spelled in TRUE_SPELLINGS:
            return True
        if spelled in FALSE_SPELLINGS:
            return False
        return str(value)


class FlagField(forms.BooleanField):
    """A yes/no the widget understood; any other value is an error on the field."""

    def to_python(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        raise forms.ValidationError(_("Enter true or false."), code="invalid")


class FlagFilter(django_filters.BooleanFilter):
    field_class = FlagField


class DeviceFilterForm(BootstrapFieldsMixin, forms.Form):
    """The filter form with Bootstrap widgets; a bad value is an error on its field."""


class DeviceOrderingFilter(django_filters.OrderingFilter):
    """Sort by one column of the list (`-` for descending); ties are broken by the device id."""

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        name = value[0].lstrip("-")
        descending = value[0].startswith("-")
        order = [
            F(field).desc() if descending else F(field).asc() for field in ORDERING_FIELDS[name]
        ]
        if name == "last_seen":
            # Devices never seen sort last whichever the direction.
            order = [
                F("last_seen_at").desc(nulls_last=True) if descending else F("last_seen_at").asc()
            ]
        return qs.order_by(*order, "-id" if descending else "id")


class DeviceFilterSet(django_filters.FilterSet):
    """Filter a queryset of visible devices by the parameters of the device list.

    Takes the asking `membership` (or a `request` that carries one, as DRF's filter backend
    passes it) and, optionally, `folders`: the member's visible folders already loaded, so the
    page checks the folder without another query.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, serial number, model or address")}
        ),
    )
    folder = django_filters.UUIDFilter(label=_("Folder"), method="filter_folder")
    include_subfolders = FlagFilter(
        label=_("Include subfolders"), method="filter_nothing", widget=FlagInput
    )
    model = django_filters.CharFilter(label=_("Model"), field_name="product_number", max_length=64)
    firmware_version = django_filters.CharFilter(label=_("Firmware version"), max_length=64)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Device.Status.choices)
    # After the others: it reads the (model, version) pairs of what they left (one query).
    upgrade_recommended = FlagFilter(
        label=_("Upgrade recommended"), method="filter_upgrade_recommended", widget=FlagInput
    )
    ordering = DeviceOrderingFilter(
        label=_("Sort by"),
        fields={name: name for name in ORDERING_FIELDS},
    )

    class Meta:
        model = Device
        fields: list[str] = []
        form = DeviceFilterForm

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        request=None,
        prefix=None,
        membership: Membership | None = None,
        folders: Iterable[Folder] | None = None,
    ) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.membership = membership or getattr(request, "membership", None)
        self.folders = {folder.pk: folder for folder in folders} if folders is not None else None
        self.selected_folder: Folder | None = None
        # Only the column name is shown in errors; the choices read as the page's headers.
        self.filters["ordering"].extra["choices"] = [
            *((name, name) for name in ORDERING_FIELDS),
            *((f"-{name}", f"-{name}") for name in ORDERING_FIELDS),
        ]

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            form.fields["folder"].error_messages["invalid"] = _("Choose a folder from the list.")
            form.clean = self._clean_form(form.clean)
            self._form = form
        return self._form

    def _clean_form(self, clean):
        """Wrap the form's clean: the folder must be one of the member's visible folders."""

        def check_folder():
            cleaned = clean()
            folder_id = self._form.cleaned_data.get("folder")
            if folder_id:
                self.selected_folder = self._visible_folder(folder_id)
                if self.selected_folder is None:
                    self._form.add_error("folder", _("Choose a folder from the list."))
            return cleaned

        return check_folder

    def _visible_folder(self, folder_id: uuid.UUID) -> Folder | None:
        if self.folders is not None:
            return self.folders.get(folder_id)
        if self.membership is None:
            return None
        try:
            return organization_selectors.get_visible_folder(self.membership, folder_id)
        except NotFound:
            return None

    def filter_search(self, queryset: QuerySet[Device], name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        in_a_column = Q()
        for column in SEARCH_COLUMNS:
            in_a_column |= Q(**{f"{column}__icontains": term})
        return queryset.alias(search_text=SEARCH_TEXT).filter(
            Q(search_text__icontains=term), in_a_column
        )

    def filter_folder(self, queryset: QuerySet[Device], name: str, value) -> QuerySet:
        folder = self.selected_folder
        if folder is None:
            return queryset
        if self.form.cleaned_data.get("include_subfolders"):
            # Materialized path: the folder and everything below it (prefix index on path).
            return queryset.filter(folder__path__startswith=folder.path)
        return queryset.filter(folder_id=folder.pk)

    def filter_upgrade_recommended(self, queryset: QuerySet[Device], name: str, value) -> QuerySet:
        return extensions.with_upgrade_recommended(queryset) if value else queryset

    def filter_nothing(self, queryset: QuerySet[Device], name: str, value) -> QuerySet:
        # Read by filter_folder; alone it selects nothing.
        return queryset


# Parameters whose blank value the API refuses (its schema gives each a type or a choice).
BLANK_REFUSED = ("folder", "include_subfolders", "status", "upgrade_recommended", "ordering")


def filtered_devices(
    membership: Membership,
    data,
    devices: QuerySet[Device],
    *,
    folders=None,
    blank_allowed: bool = True,
) -> QuerySet[Device]:
    """Return `devices` narrowed by the list's parameters, or raise Invalid naming the bad ones.

    For the API (`request.query_params`): the same parameters and meaning as the page, except
    that a parameter given blank is refused (`blank_allowed=False`) where the page's form, which
    submits every field, reads blank as "any".
    """
    if not blank_allowed:
        blank = sorted(
            name
            for name in BLANK_REFUSED
            if name in data and any(not value.strip() for value in data.getlist(name))
        )
        if blank:
            message = _("Give a value, or leave the parameter out.")
            raise Invalid(
                "invalid_filter",
                _("Some filters are not valid; see the fields."),
                {name: [message] for name in blank},
            )
    filterset = DeviceFilterSet(data, devices, membership=membership, folders=folders)
    if not filterset.is_valid():
        fields = {
            name: [str(error) for error in errors] for name, errors in filterset.errors.items()
        }
        raise Invalid("invalid_filter", _("Some filters are not valid; see the fields."), fields)
    return filterset.qs


def openapi_parameters() -> list:
    """Describe the list's parameters for the API schema (drf-spectacular)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    def query(name: str, kind, description: str, **extra) -> OpenApiParameter:
        return OpenApiParameter(
            name, kind, OpenApiParameter.QUERY, description=description, **extra
        )

    return [
        query(
            "q", OpenApiTypes.STR, "Part of the name, serial number, model, product name or host."
        ),
        query("folder", OpenApiTypes.UUID, "A visible folder's id."),
        query("include_subfolders", OpenApiTypes.BOOL, "With `folder`: its subfolders too."),
        query("model", OpenApiTypes.STR, "Exact model (product number)."),
        query("firmware_version", OpenApiTypes.STR, "Exact firmware version."),
        query(
            "status",
            OpenApiTypes.STR,
            "Status; repeat for several.",
            enum=list(Device.Status.values),
            many=True,
        ),
        query(
            "upgrade_recommended",
            OpenApiTypes.BOOL,
            "Only devices with a newer recommended release on their track (true), or any.",
        ),
        query(
            "ordering",
            OpenApiTypes.STR,
            "Sort by a column, `-` for descending.",
            enum=[*ORDERING_FIELDS, *(f"-{name}" for name in ORDERING_FIELDS)],
        ),
    ]
