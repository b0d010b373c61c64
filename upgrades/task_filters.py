"""The Tasks view's filters, shared by the page and the API (`…/upgrade-tasks/`).

Parameters: `state` (repeatable), `job` (a visible job's id), `device` (a visible device's id),
`q` (part of the device's name or serial number) and `phase` (`in_progress`: not yet in a final
state; `finished`). Every filter narrows `selectors.visible_tasks(membership)`; a job or device
the member cannot see is an error on its field, like a made-up id.
"""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid
from common.forms import BootstrapFieldsMixin
from devices.selectors import visible_devices
from organizations.models import Membership
from upgrades import selectors
from upgrades.models import FINAL_STATES, TaskState, UpgradeTask

SEARCH_MAX_LENGTH = 100

IN_PROGRESS, FINISHED = "in_progress", "finished"
PHASES = [(IN_PROGRESS, _("In progress")), (FINISHED, _("Finished"))]


class TaskFilterForm(BootstrapFieldsMixin, forms.Form):
    """The filter form with Bootstrap widgets; a bad value is an error on its field."""


class TaskFilterSet(django_filters.FilterSet):
    """Filter the member's visible upgrade tasks; newest first."""

    q = django_filters.CharFilter(
        label=_("Device"),
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Device name or serial number")}
        ),
    )
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=TaskState.choices)
    phase = django_filters.ChoiceFilter(
        label=_("Progress"), choices=PHASES, method="filter_phase", empty_label=_("Any")
    )
    job = django_filters.UUIDFilter(label=_("Job"), method="filter_job")
    device = django_filters.UUIDFilter(label=_("Device"), method="filter_device")

    class Meta:
        model = UpgradeTask
        fields: list[str] = []
        form = TaskFilterForm

    def __init__(self, data=None, queryset=None, *, membership: Membership, prefix=None) -> None:
        super().__init__(data, queryset, prefix=prefix)
        self.membership = membership

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            form.fields["job"].error_messages["invalid"] = _("Choose a job from the list.")
            form.fields["device"].error_messages["invalid"] = _("Choose a device you can see.")
            form.clean = self._clean_form(form.clean)
            self._form = form
        return self._form

    def _clean_form(self, clean):
        """Wrap the form's clean: the job and the device must be ones the member can see."""

        def check_reach():
            cleaned = clean()
            job_id = self._form.cleaned_data.get("job")
            if job_id and not selectors.visible_jobs(self.membership).filter(pk=job_id).exists():
                self._form.add_error("job", _("Choose a job from the list."))
            device_id = self._form.cleaned_data.get("device")
            if device_id and not visible_devices(self.membership).filter(pk=device_id).exists():
                self._form.add_error("device", _("Choose a device you can see."))
            return cleaned

        return check_reach

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(device__name__icontains=term) | Q(device__serial_number__icontains=term)
        )

    def filter_phase(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        final = sorted(FINAL_STATES)
        if value == IN_PROGRESS:
            return queryset.exclude(state__in=final)
        if value == FINISHED:
            return queryset.filter(state__in=final)
        return queryset

    def filter_job(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(job_id=value)

    def filter_device(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(device_id=value)


# Parameters whose blank value the API refuses (its schema gives each a type or a choice).
BLANK_REFUSED = ("state", "phase", "job", "device")


def filtered_tasks(
    membership: Membership, data, tasks: QuerySet[UpgradeTask], *, blank_allowed: bool = True
) -> QuerySet[UpgradeTask]:
    """Return `tasks` narrowed by the parameters, or raise Invalid naming the bad ones.

    The API passes `blank_allowed=False`: a parameter given blank is refused, where the page's
    form, which submits every field, reads blank as "any".
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
    filterset = TaskFilterSet(data, tasks, membership=membership)
    if not filterset.is_valid():
        fields = {
            name: [str(error) for error in errors] for name, errors in filterset.errors.items()
        }
        raise Invalid("invalid_filter", _("Some filters are not valid; see the fields."), fields)
    return filterset.qs


def openapi_parameters() -> list:
    """Describe the parameters for the API schema (drf-spectacular)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    def query(name: str, kind, description: str, **extra) -> OpenApiParameter:
        return OpenApiParameter(
            name, kind, OpenApiParameter.QUERY, description=description, **extra
        )

    return [
        query("q", OpenApiTypes.STR, "Part of the device's name or serial number."),
        query(
            "state",
            OpenApiTypes.STR,
            "State; repeat for several.",
            enum=list(TaskState.values),
            many=True,
        ),
        query(
            "phase",
            OpenApiTypes.STR,
            "`in_progress`: not in a final state yet; `finished`: in one.",
            enum=[IN_PROGRESS, FINISHED],
        ),
        query("job", OpenApiTypes.UUID, "A visible upgrade job's id."),
        query("device", OpenApiTypes.UUID, "A visible device's id."),
    ]
