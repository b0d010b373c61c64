"""Upgrade pages: security exposure, and the software schedule of a folder or a device.

Everyone who sees a folder or device sees its schedule; only admins and owners
(Action.UPGRADE_MANAGE) change it. Windows are shown in the folder's time zone with the
viewer's own time beside them.
"""

from datetime import date, datetime, timedelta
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from common.errors import DomainError, NotFound
from common.forms import apply_domain_error, form_status
from devices.selectors import get_visible_device
from organizations import access
from organizations.models import Folder
from organizations.roles import Action
from organizations.selectors import get_visible_folder
from organizations.tenancy import organization_view
from upgrades import selectors, services
from upgrades.forms import WEEKDAY_CHOICES, ScheduleForm
from upgrades.models import UpgradeSchedule
from upgrades.services import INHERIT
from upgrades.windows import occurrences

UPCOMING_WINDOWS = 3


@organization_view
def security_exposure(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Each CVE of the catalog with the visible devices that still run an affected version."""
    rows = selectors.security_exposure(request.membership)
    exposed = selectors.exposed_device_count(request.membership)
    return render(
        request,
        "upgrades/security_exposure.html",
        {"rows": rows, "exposed_count": exposed},
    )


def _window_summary(schedule: UpgradeSchedule) -> str:
    days = [str(label) for value, label in WEEKDAY_CHOICES if schedule.weekdays & (1 << int(value))]
    start = schedule.start_time
    end = (
        datetime.combine(date(2000, 1, 1), start) + timedelta(minutes=schedule.duration_minutes)
    ).time()
    crosses = schedule.duration_minutes > 24 * 60 - (start.hour * 60 + start.minute)
    text = _("%(days)s, %(start)s to %(end)s") % {
        "days": ", ".join(days),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }
    if crosses:
        text += " " + _("(the next day)")
    if schedule.blackout_dates:
        text += "; " + _("not on %(dates)s") % {"dates": ", ".join(schedule.blackout_dates)}
    return text


def _schedule_context(
    membership, effective: selectors.EffectiveSchedule, *, is_device: bool
) -> dict:
    """What the schedule pages show of the schedule in force: words, origin, next windows."""
    schedule = effective.schedule
    summary = _window_summary(schedule) if effective.mode == UpgradeSchedule.Mode.WINDOW else ""
    window = effective.window()
    upcoming = []
    if window is not None:
        for start, end in occurrences(window, timezone.now()):
            upcoming.append({"start": start, "end": end})
            if len(upcoming) == UPCOMING_WINDOWS:
                break
    if effective.source is None:
        origin = _("No schedule is set here or on a folder above: upgrades are manual only.")
    elif effective.inherited and not selectors.source_visible_to(membership, effective):
        origin = _("Inherited from a folder above.")
    elif effective.inherited:
        origin = _("Inherited from the folder “%(name)s”.") % {"name": effective.source}
    elif is_device:
        origin = _("Set on this device.")
    else:
        origin = _("Set on this folder.")
    return {
        "effective": effective,
        "mode_label": UpgradeSchedule.Mode(effective.mode).label,
        "summary": summary,
        "origin": origin,
        "upcoming": upcoming,
        "folder_zone": effective.time_zone,
        "user_zone": timezone.get_current_timezone_name(),
    }


def _schedule_page(
    request, *, target, effective, own, inherit_label, template, extra
) -> HttpResponse:
    membership = request.membership
    can_manage = access.can(membership, Action.UPGRADE_MANAGE, target)
    initial = ScheduleForm.initial_for(own, can_inherit=bool(inherit_label))
    form = None
    if can_manage:
        posted = request.POST if request.method == "POST" else None
        form = ScheduleForm(posted, initial=initial, inherit_label=inherit_label)
    if request.method == "POST":
        access.require(membership, Action.UPGRADE_MANAGE, target)
        if form.is_valid():
            kind = "folder_ids" if isinstance(target, Folder) else "device_ids"
            try:
                changed = services.apply_schedule(
                    actor=membership, spec=form.spec(), **{kind: [target.pk]}
                )
            except DomainError as error:
                apply_domain_error(form, error, "mode")
            else:
                if changed:
                    messages.success(request, _("The schedule is saved."))
                else:
                    messages.info(request, _("The schedule was already like this."))
                return redirect(request.path)
    context = {
        **extra,
        **_schedule_context(membership, effective, is_device="device" in extra),
        "form": form,
        "can_manage": can_manage,
    }
    return render(request, template, context, status=form_status(form) if form else 200)


@organization_view
@require_http_methods(["GET", "POST"])
def folder_schedule(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """A folder's software schedule, inherited by every folder and device below that sets none."""
    folder = get_visible_folder(request.membership, folder_id)
    return _schedule_page(
        request,
        target=folder,
        effective=selectors.effective_folder_schedule(folder),
        own=selectors.own_schedule(folder=folder),
        inherit_label=_("Same as the parent folder") if folder.parent_id else None,
        template="upgrades/schedule.html",
        extra={"folder": folder},
    )


@organization_view
@require_http_methods(["GET", "POST"])
def device_schedule(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """A device's software schedule: its own, or its folder's."""
    device = get_visible_device(request.membership, device_id)
    effective = selectors.effective_device_schedules([device])[device.pk]
    # A tab of the device's pages once the devices app serves them (device_base links to its
    # device list); a page of its own before that.
    try:
        reverse("devices:device-list", args=[organization_id])
        template = "upgrades/device_schedule.html"
    except NoReverseMatch:
        template = "upgrades/schedule.html"
    return _schedule_page(
        request,
        target=device,
        effective=effective,
        own=selectors.own_schedule(device=device),
        inherit_label=_("Same as its folder"),
        template=template,
        extra={
            "device": device,
            "folder": device.folder,
            "recommendation": selectors.recommendations_for([device]).get(device.pk),
            "active_tab": "schedule",
        },
    )


def _selected_ids(request: HttpRequest, name: str) -> list[UUID]:
    """The ids of one kind in the query string (?device=…&device=…); NotFound for junk."""
    try:
        return [UUID(value) for value in request.GET.getlist(name)]
    except ValueError:
        raise NotFound(f"{name}_not_found", _("Not found.")) from None


@organization_view
@require_http_methods(["GET", "POST"])
def schedule_selection(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Set one schedule on a selection of folders and devices in one action (admin+).

    Lists link here with the selection in the query string (?folder=…&device=…), as the
    device list's bulk action does.
    """
    membership = request.membership
    access.require(membership, Action.UPGRADE_MANAGE)
    folder_ids = _selected_ids(request, "folder")
    device_ids = _selected_ids(request, "device")
    folders = [get_visible_folder(membership, folder_id) for folder_id in dict.fromkeys(folder_ids)]
    devices = [get_visible_device(membership, device_id) for device_id in dict.fromkeys(device_ids)]
    form = ScheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"mode": INHERIT},
        inherit_label=_("Same as their folder (remove their own schedule)"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.apply_schedule(
                actor=membership,
                spec=form.spec(),
                folder_ids=[folder.pk for folder in folders],
                device_ids=[device.pk for device in devices],
            )
        except DomainError as error:
            apply_domain_error(form, error, "mode")
        else:
            messages.success(
                request,
                ngettext(
                    "The schedule is saved for %(count)s folder or device.",
                    "The schedule is saved for %(count)s folders and devices.",
                    changed,
                )
                % {"count": changed},
            )
            return redirect(request.get_full_path())
    context = {"form": form, "folders": folders, "devices": devices}
    return render(request, "upgrades/schedule_selection.html", context, status=form_status(form))
