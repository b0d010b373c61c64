"""Upgrades API routes, mounted at /api/v1/organizations/<organization_id>/ (namespace `api`)."""

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema

from upgrades.api import jobs, views


def unslashed(route: str, view_class: type) -> URLPattern:
    """The route as issue 13 and the README write it (`…/pause`, `…/schedule`), beside the
    documented one with the API's trailing slash: a POST cannot follow a redirect to it."""
    alias = extend_schema(exclude=True)(type(view_class.__name__, (view_class,), {}))
    return path(route, alias.as_view())


urlpatterns = [
    path(
        "security-exposure/",
        views.SecurityExposureView.as_view(),
        name="security-exposure",
    ),
    path(
        "folders/<uuid:folder_id>/schedule/",
        views.FolderScheduleView.as_view(),
        name="folder-schedule",
    ),
    path(
        "devices/<uuid:device_id>/schedule/",
        views.DeviceScheduleView.as_view(),
        name="device-schedule",
    ),
    path("upgrade-jobs/", jobs.UpgradeJobListView.as_view(), name="upgrade-job-list"),
    path(
        "upgrade-jobs/<uuid:job_id>/",
        jobs.UpgradeJobDetailView.as_view(),
        name="upgrade-job-detail",
    ),
    path(
        "upgrade-jobs/<uuid:job_id>/pause/",
        jobs.UpgradeJobPauseView.as_view(),
        name="upgrade-job-pause",
    ),
    path(
        "upgrade-jobs/<uuid:job_id>/resume/",
        jobs.UpgradeJobResumeView.as_view(),
        name="upgrade-job-resume",
    ),
    path(
        "upgrade-jobs/<uuid:job_id>/cancel/",
        jobs.UpgradeJobCancelView.as_view(),
        name="upgrade-job-cancel",
    ),
    path("upgrade-tasks/", jobs.UpgradeTaskListView.as_view(), name="upgrade-task-list"),
    path(
        "upgrade-tasks/<uuid:task_id>/retry/",
        jobs.UpgradeTaskRetryView.as_view(),
        name="upgrade-task-retry",
    ),
    unslashed("folders/<uuid:folder_id>/schedule", views.FolderScheduleView),
    unslashed("devices/<uuid:device_id>/schedule", views.DeviceScheduleView),
    unslashed("upgrade-jobs/<uuid:job_id>/pause", jobs.UpgradeJobPauseView),
    unslashed("upgrade-jobs/<uuid:job_id>/resume", jobs.UpgradeJobResumeView),
    unslashed("upgrade-jobs/<uuid:job_id>/cancel", jobs.UpgradeJobCancelView),
    unslashed("upgrade-tasks/<uuid:task_id>/retry", jobs.UpgradeTaskRetryView),
]
