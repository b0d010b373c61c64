"""The schedule form of a folder or a device."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import BootstrapForm
from upgrades.models import UpgradeSchedule
from upgrades.services import INHERIT, ScheduleSpec, describe

WEEKDAY_CHOICES = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


class ScheduleForm(BootstrapForm):
    """Mode, and for a maintenance window its days, start time, duration and blackout dates."""

    mode = forms.ChoiceField(label=_("Software schedule"))
    weekdays = forms.MultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The days a maintenance window starts on."),
    )
    start_time = forms.TimeField(
        label=_("Start time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the folder's time zone. A window may run past midnight."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("From 1 minute to 24 hours (1440 minutes)."),
    )
    blackout_dates = forms.CharField(
        label=_("Blackout dates"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("No window starts on these dates. One date per line, e.g. 2026-12-24."),
    )

    def __init__(self, *args, inherit_label: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = list(UpgradeSchedule.Mode.choices)
        if inherit_label:
            choices.insert(0, (INHERIT, inherit_label))
        self.fields["mode"].choices = choices

    @staticmethod
    def initial_for(schedule: UpgradeSchedule | None, *, can_inherit: bool) -> dict:
        """Return the form's initial values for a folder's or device's own schedule."""
        data = describe(schedule)
        if data["mode"] == INHERIT and not can_inherit:
            data["mode"] = UpgradeSchedule.Mode.NONE
        return {
            "mode": data["mode"],
            "weekdays": [str(day) for day in data.get("weekdays", [])],
            "start_time": data.get("start_time"),
            "duration_minutes": data.get("duration_minutes"),
            "blackout_dates": "\n".join(data.get("blackout_dates", [])),
        }

    def clean_blackout_dates(self) -> list[date]:
        dates = []
        for text in self.cleaned_data["blackout_dates"].replace(",", "\n").split():
            try:
                dates.append(date.fromisoformat(text))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(text)s” is not a date such as 2026-12-24.") % {"text": text}
                ) from None
        return dates

    def clean(self) -> dict:
        data = super().clean()
        if data.get("mode") == UpgradeSchedule.Mode.WINDOW:
            if not data.get("weekdays"):
                self.add_error("weekdays", _("Choose at least one day of the week."))
            if data.get("start_time") is None and "start_time" not in self.errors:
                self.add_error("start_time", _("Give the time the window starts, e.g. 02:00."))
            if data.get("duration_minutes") is None and "duration_minutes" not in self.errors:
                self.add_error("duration_minutes", _("Give how long the window lasts."))
        return data

    def spec(self) -> ScheduleSpec:
        """Return the schedule the valid form describes."""
        data = self.cleaned_data
        return ScheduleSpec(
            mode=data["mode"],
            weekdays=frozenset(int(day) for day in data.get("weekdays") or ()),
            start_time=data.get("start_time"),
            duration_minutes=data.get("duration_minutes"),
            blackout_dates=tuple(data.get("blackout_dates") or ()),
        )
