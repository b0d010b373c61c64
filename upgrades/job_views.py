"""Upgrade jobs in pages: the review of a selection, the job page, its actions, the Tasks view.

"Device software upgrade" on the device list posts the ticked devices here (or links here with
the list's filters for "all matching"); the review says, device by device, the version it gets or
why it is skipped, and Upgrade creates the job through `services.jobs.create_job`. Reviewing and
upgrading are admin+ (Action.UPGRADE_MANAGE); the Tasks view and the job page are for everyone
who sees devices (operators and viewers see the tasks of the devices they can see). While
something is in progress, htmx fetches the live part of the page again every few seconds.
"""

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from common.errors import Conflict, DomainError, Invalid, NotFound
from devices.filters import DeviceFilterSet, filtered_devices
from devices.models import Device
from devices.selectors import visible_devices
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view
from upgrades import selectors
from upgrades.models import FINAL_STATES, TaskState, UpgradeJob, UpgradeTask
from upgrades.services import jobs as job_services
from upgrades.task_filters import TaskFilterSet

TASKS_PER_PAGE = 50
# Seconds between two fetches of the live part of a page while something is in progress.
POLL_SECONDS = 2
# Jobs offered in the Tasks view's job filter, newest first.
JOB_CHOICES = 50


# --- Review and Upgrade --------------------------------------------------------------------


def _selected_devices(request: HttpRequest) -> tuple[QuerySet[Device], dict]:
    """Return the devices the person chose and how to send the same choice again.

    Either ticked devices (`selection`, repeated) or everything matching the device list's
    filters (`scope=all` with the list's parameters; posted, `filter_query` holds them). A
    ticked id outside the member's reach is "not found", like on every other page.
    """
    membership = request.membership
    data = request.POST if request.method == "POST" else request.GET
    devices = visible_devices(membership)
    if data.get("scope") == "all":
        query = data.get("filter_query", "") if request.method == "POST" else _filter_query(data)
        chosen = filtered_devices(membership, QueryDict(query), devices)
        return chosen, {"all": True, "filter_query": query}
    try:
        ids = list(dict.fromkeys(UUID(value) for value in data.getlist("selection")))
    except ValueError:
        raise NotFound("device_not_found", _("Device not found.")) from None
    if not ids:
        raise Invalid("no_selection", _("Select at least one device to upgrade."))
    chosen = devices.filter(pk__in=ids)
    if chosen.count() != len(ids):
        raise NotFound("device_not_found", _("Device not found."))
    return chosen, {"all": False, "selection": ids}


def _filter_query(data: QueryDict) -> str:
    """Only the device list's own filter parameters, as a query string."""
    kept = QueryDict(mutable=True)
    for name in DeviceFilterSet.base_filters:
        if name in data:
            kept.setlist(name, data.getlist(name))
    return kept.urlencode()


def _back_to_devices(organization_id: UUID, query: str = "") -> HttpResponse:
    url = reverse("devices:device-list", args=[organization_id])
    return redirect(f"{url}?{query}" if query else url)


@organization_view
@require_http_methods(["GET", "POST"])
def upgrade_review(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Review what "Device software upgrade" would do for the selection; Upgrade creates the job.

    The device list's form posts here without `confirm` to show the review; the review's own
    form posts with `confirm` to start. Admin+ only.
    """
    membership = request.membership
    access.require(membership, Action.UPGRADE_MANAGE)
    # The device list's parameters, for the way back to it.
    list_query = (
        request.POST.get("query", "") if request.method == "POST" else _filter_query(request.GET)
    )
    try:
        devices, choice = _selected_devices(request)
        review = job_services.review_upgrade(membership=membership, devices=devices)
    except Invalid as error:  # a bad filter, nothing ticked, or more than one job takes
        messages.error(request, str(error.message))
        return _back_to_devices(organization_id, _filter_query(QueryDict(list_query)))
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            job, started = job_services.create_job(membership=membership, devices=devices)
        except (Conflict, Invalid) as refusal:
            # Nothing upgradable, or another click started these devices first: the review
            # again as it is now, with the reason on top.
            messages.error(request, str(refusal.message))
            review = job_services.review_upgrade(membership=membership, devices=devices)
        else:
            count = len(started.to_upgrade)
            messages.success(
                request,
                ngettext("Upgrading %(count)d device.", "Upgrading %(count)d devices.", count)
                % {"count": count},
            )
            return redirect("upgrades:job-detail", organization_id, job.pk)
    skip_labels = {
        job_services.UP_TO_DATE: _("Up to date"),
        job_services.NO_RELEASE_FOR_MODEL: _("No release for its model"),
        job_services.RELEASE_NOT_FOR_MODEL: _("Release not for its model"),
        job_services.OFFLINE: _("Offline"),
        job_services.ALREADY_UPGRADING: _("Already upgrading"),
    }
    context = {
        "review": review,
        "rows": [
            {"row": row, "skip_label": skip_labels.get(row.skip_code, row.skip_code)}
            for row in review.rows
        ],
        "upgrade_count": len(review.to_upgrade),
        "skipped_count": len(review.skipped),
        "choice": choice,
        "list_query": list_query,
    }
    return render(request, "upgrades/upgrade_review.html", context)


# --- The Tasks view and the job page --------------------------------------------------------


def _page_of(request: HttpRequest, tasks: QuerySet[UpgradeTask]):
    paginator = Paginator(tasks, TASKS_PER_PAGE)
    return paginator.get_page(request.GET.get("page"))


def _task_rows(page) -> list[UpgradeTask]:
    return list(page.object_list)


def _in_progress(tasks: list[UpgradeTask]) -> bool:
    return any(task.state not in FINAL_STATES for task in tasks)


@organization_view
def task_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Devices → Tasks: the organization's upgrade tasks, newest first, filtered and paged.

    htmx asks for the table alone (`HX-Request`) every few seconds while a task of the page
    is not finished yet.
    """
    membership = request.membership
    access.require(membership, Action.DEVICE_VIEW)
    tasks = selectors.visible_tasks(membership).select_related("device", "job")
    filterset = TaskFilterSet(request.GET, tasks, membership=membership)
    is_valid = filterset.is_valid()
    rows = filterset.qs if is_valid else tasks.none()
    page = _page_of(request, rows.order_by("-created_at", "-id"))
    task_rows = _task_rows(page)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "tasks": task_rows,
        "live": _in_progress(task_rows),
        "poll_seconds": POLL_SECONDS,
        "can_manage": access.can(membership, Action.UPGRADE_MANAGE),
        "query": query.urlencode(),
    }
    if request.htmx:
        return render(request, "upgrades/partials/task_table.html", context)
    jobs = selectors.visible_jobs(membership).order_by("-created_at", "-id")[:JOB_CHOICES]
    context |= {
        "filterset": filterset,
        "form": filterset.form,
        "states": TaskState.choices,
        "selected_states": request.GET.getlist("state"),
        "jobs": jobs,
        "selected_job": request.GET.get("job", ""),
    }
    return render(request, "upgrades/task_list.html", context, status=200 if is_valid else 400)


# The order the job page shows states in (DESIGN.md §6) and the chart's colours, by state.
STATE_COLOURS = {
    TaskState.SCHEDULED: "#adb5bd",
    TaskState.WAITING_WINDOW: "#6c757d",
    TaskState.QUEUED: "#6ea8fe",
    TaskState.PREFLIGHT: "#3d8bfd",
    TaskState.UPLOADING: "#0d6efd",
    TaskState.INSTALLING: "#0a58ca",
    TaskState.VERIFYING: "#6610f2",
    TaskState.COMMITTING: "#6f42c1",
    TaskState.SUCCEEDED: "#198754",
    TaskState.FAILED: "#dc3545",
    TaskState.ROLLED_BACK: "#fd7e14",
    TaskState.SKIPPED: "#ced4da",
    TaskState.CANCELLED: "#495057",
}


def _job_context(request: HttpRequest, job: UpgradeJob) -> dict:
    membership = request.membership
    counts = selectors.job_counts(job, membership)
    tasks = (
        selectors.visible_tasks(membership)
        .filter(job_id=job.pk)
        .select_related("device", "job")
        .order_by("device__name", "id")
    )
    page = _page_of(request, tasks)
    task_rows = _task_rows(page)
    states = [
        {"state": state, "label": label, "count": counts.get(state, 0)}
        for state, label in TaskState.choices
    ]
    shown = [row for row in states if row["count"]]
    return {
        "job": job,
        "states": shown,
        "total": sum(counts.values()),
        "chart": {
            "labels": [str(row["label"]) for row in shown],
            "counts": [row["count"] for row in shown],
            "colours": [STATE_COLOURS[row["state"]] for row in shown],
        },
        "page": page,
        "tasks": task_rows,
        # The job still moves while it is not finished (a paused job's running tasks end).
        "live": job.status != UpgradeJob.Status.FINISHED or _in_progress(task_rows),
        "poll_seconds": POLL_SECONDS,
        "can_manage": access.can(membership, Action.UPGRADE_MANAGE),
        "query": "",
    }


@organization_view
def job_detail(request: HttpRequest, organization_id: UUID, job_id: UUID) -> HttpResponse:
    """One upgrade job: counts per state, a chart, its tasks; Pause, Resume, Cancel (admin+)."""
    job = selectors.get_visible_job(request.membership, job_id)
    context = _job_context(request, job)
    if request.htmx:
        return render(request, "upgrades/partials/job_live.html", context)
    return render(request, "upgrades/job_detail.html", context)


JOB_ACTIONS = {
    "pause": {
        "service": job_services.pause_job,
        "title": gettext_lazy("Pause this upgrade job?"),
        "text": gettext_lazy(
            "No new device starts its upgrade until the job is resumed. Devices already "
            "upgrading finish."
        ),
        "button": gettext_lazy("Pause"),
        "done": gettext_lazy("The upgrade job is paused."),
    },
    "resume": {
        "service": job_services.resume_job,
        "title": gettext_lazy("Resume this upgrade job?"),
        "text": gettext_lazy("Devices waiting in this job start their upgrades again."),
        "button": gettext_lazy("Resume"),
        "done": gettext_lazy("The upgrade job is running again."),
    },
    "cancel": {
        "service": job_services.cancel_job,
        "title": gettext_lazy("Cancel this upgrade job?"),
        "text": gettext_lazy(
            "Devices that have not started their upgrade are left as they are. Devices already "
            "upgrading finish."
        ),
        "button": gettext_lazy("Cancel the waiting upgrades"),
        "done": gettext_lazy("The waiting upgrades are cancelled."),
    },
}


@organization_view
@require_http_methods(["GET", "POST"])
def job_action(
    request: HttpRequest, organization_id: UUID, job_id: UUID, action: str
) -> HttpResponse:
    """Confirm (GET), then pause, resume or cancel a job (POST); admin+, audited by the service."""
    membership = request.membership
    job = selectors.get_visible_job(membership, job_id)
    access.require(membership, Action.UPGRADE_MANAGE)
    spec = JOB_ACTIONS[action]
    if request.method == "POST":
        try:
            spec["service"](membership=membership, job=job)
        except NotFound:
            raise
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, str(spec["done"]))
        return redirect("upgrades:job-detail", organization_id, job.pk)
    return render(
        request,
        "upgrades/job_confirm.html",
        {
            "job": job,
            "title": spec["title"],
            "text": spec["text"],
            "button": spec["button"],
            "action_url": reverse(f"upgrades:job-{action}", args=[organization_id, job.pk]),
        },
    )


@organization_view
@require_http_methods(["GET", "POST"])
def task_retry(request: HttpRequest, organization_id: UUID, task_id: UUID) -> HttpResponse:
    """Confirm (GET), then retry a failed or rolled-back task as a new attempt (POST; admin+)."""
    membership = request.membership
    task = selectors.get_visible_task(membership, task_id)
    access.require(membership, Action.UPGRADE_MANAGE, task.device)
    if request.method == "POST":
        try:
            job_services.retry_task(membership=membership, task=task)
        except NotFound:
            raise
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _("The upgrade of %(device)s starts again.") % {"device": task.device.name},
            )
        return redirect("upgrades:job-detail", organization_id, task.job_id)
    return render(
        request,
        "upgrades/job_confirm.html",
        {
            "job": task.job,
            "title": _("Retry the upgrade of %(device)s?") % {"device": task.device.name},
            "text": _(
                "The device gets %(version)s again as a new attempt, now, outside any "
                "maintenance window. It failed because: %(reason)s"
            )
            % {"version": task.to_version, "reason": task.reason or "—"},
            "button": _("Retry"),
            "action_url": reverse("upgrades:task-retry", args=[organization_id, task.pk]),
        },
    )
