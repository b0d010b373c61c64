"""Upgrade jobs and tasks in the API, under /api/v1/organizations/<organization_id>/.

    POST …/upgrade-jobs/                 review a selection and start a job (admin+)
    GET  …/upgrade-jobs/                 the jobs the caller sees, newest first, with counts
    GET  …/upgrade-jobs/<id>/            one job with its tasks counted per state
    POST …/upgrade-jobs/<id>/pause/      stop starting new tasks (admin+)
    POST …/upgrade-jobs/<id>/resume/     start them again (admin+)
    POST …/upgrade-jobs/<id>/cancel/     cancel the tasks not started yet (admin+)
    GET  …/upgrade-tasks/                tasks, filtered by ?job=&state=&device=&phase=&q=
    POST …/upgrade-tasks/<id>/retry/     retry a failed or rolled-back task (admin+)

A job's devices are named by `devices` (ids) or by `filter` (the device list's parameters, the
same FilterSet as the page and `GET …/devices/`). The answer is the review — for each device
the version it gets, or the code and words of why it is skipped — and, unless `dry_run`, the
job created (201). Operators and viewers read the tasks of the devices they see (and the jobs
those belong to). Another organization's ids are 404.
"""

from collections import defaultdict
from uuid import UUID

from django.db.models import Count
from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import StrictCharField, StrictUUIDField
from common.errors import Invalid, NotFound
from devices.filters import filtered_devices
from devices.models import Device
from devices.selectors import visible_devices
from organizations.api.base import OrganizationAPIView
from organizations.models import Membership
from organizations.roles import Action
from upgrades import selectors, task_filters
from upgrades.models import FirmwareRelease, TaskState, UpgradeJob, UpgradeTask
from upgrades.services import jobs as job_services

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}"),
    403: OpenApiResponse(description="Visible but not allowed for this role."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
}
CONFLICT = {
    409: OpenApiResponse(
        description="Refused by the job's or task's state (job_not_running, job_not_paused, "
        "job_finished, task_not_failed) or already_upgrading."
    )
}

# The schema's names of these enums (settings SPECTACULAR_SETTINGS).
TASK_STATES = TaskState.choices
JOB_STATUSES = UpgradeJob.Status.choices
JOB_ORIGINS = UpgradeJob.Origin.choices
SKIP_CODES = [(code, code) for code in job_services.SKIP_CODES]


# --- Shapes -------------------------------------------------------------------------------------


class StateCountsSerializer(serializers.Serializer):
    """How many of the job's tasks (that the caller sees) are in each state."""

    def to_representation(self, instance: dict) -> dict:
        return {state: instance.get(state, 0) for state in TaskState.values}

    def get_fields(self) -> dict:
        return {state: serializers.IntegerField() for state in TaskState.values}


class UpgradeJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JOB_STATUSES)
    origin = serializers.ChoiceField(choices=JOB_ORIGINS)
    release = serializers.CharField(
        source="release.version",
        allow_null=True,
        default=None,
        help_text="The version every device gets; null: each its recommendation.",
    )
    created_by = serializers.CharField(source="created_by_label")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    paused_reason = serializers.CharField(allow_blank=True)
    failure_threshold_percent = serializers.IntegerField()
    counts = StateCountsSerializer(help_text="Tasks per state.")


class TaskDeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UpgradeTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    job = serializers.UUIDField(source="job_id")
    device = TaskDeviceSerializer()
    from_version = serializers.CharField(allow_blank=True)
    to_version = serializers.CharField()
    state = serializers.ChoiceField(choices=TASK_STATES)
    progress_bytes = serializers.IntegerField()
    total_bytes = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)
    reason_code = serializers.CharField(allow_blank=True)
    attempt = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ReviewRowSerializer(serializers.Serializer):
    device = serializers.UUIDField(source="device.pk")
    name = serializers.CharField(source="device.name")
    from_version = serializers.CharField(source="device.firmware_version", allow_blank=True)
    target_version = serializers.CharField(source="release.version", allow_null=True, default=None)
    skip_code = serializers.ChoiceField(choices=SKIP_CODES, allow_null=True, default=None)
    skip_message = serializers.CharField(allow_null=True, default=None)

    def to_representation(self, instance: job_services.ReviewRow) -> dict:
        return {
            "device": str(instance.device.pk),
            "name": instance.device.name,
            "from_version": instance.device.firmware_version,
            "target_version": instance.release.version if instance.upgradable else None,
            "skip_code": instance.skip_code or None,
            "skip_message": instance.skip_message or None,
        }


class ReviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    upgrade_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    devices = ReviewRowSerializer(many=True)
    job = UpgradeJobSerializer(allow_null=True, help_text="The job created; null on a dry run.")


class DeviceFilterInputSerializer(serializers.Serializer):
    """The device list's parameters (see `GET …/devices/`), as an object."""

    q = StrictCharField(required=False, allow_blank=True, max_length=100)
    folder = StrictUUIDField(required=False)
    include_subfolders = serializers.BooleanField(required=False)
    model = StrictCharField(required=False, max_length=64)
    firmware_version = StrictCharField(required=False, max_length=64)
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=Device.Status.choices), required=False, max_length=10
    )
    upgrade_recommended = serializers.BooleanField(required=False)


class UpgradeJobCreateSerializer(serializers.Serializer):
    devices = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        min_length=1,
        max_length=job_services.MAX_DEVICES_PER_JOB,
        help_text="The devices' ids. Give this or `filter`.",
    )
    filter = DeviceFilterInputSerializer(
        required=False, help_text="Every device the list's filters match. Give this or `devices`."
    )
    release = StrictUUIDField(
        required=False,
        allow_null=True,
        help_text="A catalog release's id for every device; left out: each its recommendation.",
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Only review: answer what would happen, start nothing."
    )

    def validate(self, data: dict) -> dict:
        if ("devices" in data) == ("filter" in data):
            raise serializers.ValidationError(
                {"devices": [_("Give either the devices' ids or a filter, not both.")]}
            )
        return data


class CancelAnswerSerializer(serializers.Serializer):
    cancelled = serializers.IntegerField(help_text="Tasks cancelled (not started yet).")
    job = UpgradeJobSerializer()


# --- Reads ------------------------------------------------------------------------------------


def _counts_by_job(membership: Membership, jobs: list[UpgradeJob]) -> dict:
    """Each job's visible tasks per state, in one query for the whole page."""
    counts: dict = defaultdict(dict)
    rows = (
        selectors.visible_tasks(membership)
        .filter(job_id__in=[job.pk for job in jobs])
        .order_by()
        .values_list("job_id", "state")
        .annotate(n=Count("pk"))
    )
    for job_id, state, number in rows:
        counts[job_id][state] = number
    return counts


def _job_body(job: UpgradeJob, counts: dict) -> dict:
    job.counts = counts
    return UpgradeJobSerializer(job).data


def _device_selection(membership: Membership, data: dict):
    devices = visible_devices(membership)
    if "devices" in data:
        ids = list(dict.fromkeys(data["devices"]))
        chosen = devices.filter(pk__in=ids)
        if chosen.count() != len(ids):
            raise NotFound("device_not_found", _("Device not found."))
        return chosen
    query = QueryDict(mutable=True)
    for name, value in data["filter"].items():
        if isinstance(value, list):
            query.setlist(name, value)
        elif isinstance(value, bool):
            query[name] = "true" if value else "false"
        else:
            query[name] = str(value)
    return filtered_devices(membership, query, devices)


def _release(release_id: UUID | None) -> FirmwareRelease | None:
    if release_id is None:
        return None
    release = selectors.catalog_releases().filter(pk=release_id).first()
    if release is None:
        raise Invalid(
            "invalid",
            _("Some fields are not valid; see the fields."),
            {"release": [_("No such release in the catalog.")]},
        )
    return release


# --- Views ------------------------------------------------------------------------------------


class UpgradeJobListView(OrganizationAPIView):
    """The upgrade jobs the caller sees, newest first; review a selection and start a job."""

    serializer_class = UpgradeJobSerializer
    required_actions = {"GET": Action.DEVICE_VIEW, "POST": Action.UPGRADE_MANAGE}

    @extend_schema(
        operation_id="upgrade_jobs_list",
        responses={200: UpgradeJobSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        jobs = selectors.visible_jobs(request.membership).select_related("release")
        page = self.paginate_queryset(jobs.order_by("-created_at", "-id"))
        counts = _counts_by_job(request.membership, page)
        return self.get_paginated_response([_job_body(job, counts[job.pk]) for job in page])

    @extend_schema(
        request=UpgradeJobCreateSerializer,
        responses={
            201: OpenApiResponse(ReviewSerializer, description="The job started, with the review."),
            200: OpenApiResponse(ReviewSerializer, description="A dry run: the review only."),
            **ERRORS,
            **CONFLICT,
        },
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        serializer = UpgradeJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership = request.membership
        devices = _device_selection(membership, data)
        release = _release(data.get("release"))
        if data["dry_run"]:
            review = job_services.review_upgrade(
                membership=membership, devices=devices, release=release
            )
            job_body, answer_status = None, status.HTTP_200_OK
        else:
            job, review = job_services.create_job(
                membership=membership, devices=devices, release=release
            )
            job = selectors.get_visible_job(membership, job.pk)
            job_body = _job_body(job, selectors.job_counts(job, membership))
            answer_status = status.HTTP_201_CREATED
        body = {
            "dry_run": data["dry_run"],
            "upgrade_count": len(review.to_upgrade),
            "skipped_count": len(review.skipped),
            "devices": ReviewRowSerializer(review.rows, many=True).data,
            "job": job_body,
        }
        return Response(body, status=answer_status)


class _JobView(OrganizationAPIView):
    object_url_kwarg, object_name = "job_id", "job"
    serializer_class = UpgradeJobSerializer

    def load_object(self, membership: Membership, object_id: UUID) -> UpgradeJob:
        return selectors.get_visible_job(membership, object_id)

    def answer(self, job: UpgradeJob) -> dict:
        job = selectors.get_visible_job(self.request.membership, job.pk)
        return _job_body(job, selectors.job_counts(job, self.request.membership))


class UpgradeJobDetailView(_JobView):
    """One upgrade job with its (visible) tasks counted per state."""

    required_actions = {"GET": Action.DEVICE_VIEW}

    @extend_schema(responses={200: UpgradeJobSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, job: UpgradeJob) -> Response:
        return Response(self.answer(job))


class UpgradeJobPauseView(_JobView):
    """Pause a running job: no new task starts; tasks on their device finish (admin+)."""

    required_actions = {"POST": Action.UPGRADE_MANAGE}

    @extend_schema(request=None, responses={200: UpgradeJobSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, organization_id: UUID, job: UpgradeJob) -> Response:
        job_services.pause_job(membership=request.membership, job=job)
        return Response(self.answer(job))


class UpgradeJobResumeView(_JobView):
    """Resume a paused job (admin+)."""

    required_actions = {"POST": Action.UPGRADE_MANAGE}

    @extend_schema(request=None, responses={200: UpgradeJobSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, organization_id: UUID, job: UpgradeJob) -> Response:
        job_services.resume_job(membership=request.membership, job=job)
        return Response(self.answer(job))


class UpgradeJobCancelView(_JobView):
    """Cancel the job's tasks not started yet; tasks on their device finish (admin+)."""

    required_actions = {"POST": Action.UPGRADE_MANAGE}

    @extend_schema(request=None, responses={200: CancelAnswerSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, organization_id: UUID, job: UpgradeJob) -> Response:
        cancelled = job_services.cancel_job(membership=request.membership, job=job)
        return Response({"cancelled": cancelled, "job": self.answer(job)})


class UpgradeTaskListView(OrganizationAPIView):
    """The upgrade tasks the caller sees (operators and viewers: of the devices they see),
    newest first, filtered like the Tasks view."""

    serializer_class = UpgradeTaskSerializer
    required_actions = {"GET": Action.DEVICE_VIEW}

    @extend_schema(
        operation_id="upgrade_tasks_list",
        parameters=task_filters.openapi_parameters(),
        responses={200: UpgradeTaskSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        membership = request.membership
        tasks = selectors.visible_tasks(membership).select_related("device")
        tasks = task_filters.filtered_tasks(
            membership, request.query_params, tasks, blank_allowed=False
        )
        page = self.paginate_queryset(tasks.order_by("-created_at", "-id"))
        return self.get_paginated_response(UpgradeTaskSerializer(page, many=True).data)


class UpgradeTaskRetryView(OrganizationAPIView):
    """Retry a failed or rolled-back task now, as a new attempt (admin+)."""

    serializer_class = UpgradeTaskSerializer
    required_actions = {"POST": Action.UPGRADE_MANAGE}
    object_url_kwarg, object_name = "task_id", "task"

    def load_object(self, membership: Membership, object_id: UUID) -> UpgradeTask:
        return selectors.get_visible_task(membership, object_id)

    @extend_schema(request=None, responses={200: UpgradeTaskSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, organization_id: UUID, task: UpgradeTask) -> Response:
        job_services.retry_task(membership=request.membership, task=task)
        task = selectors.get_visible_task(request.membership, task.pk)
        return Response(UpgradeTaskSerializer(task).data)
