"""Upgrade pages, mounted at /o/<organization_id>/upgrades/ in the `upgrades` namespace."""

from django.urls import path

from upgrades import job_views, views

app_name = "upgrades"

urlpatterns = [
    path("security/", views.security_exposure, name="security-exposure"),
    path("schedules/", views.schedule_selection, name="schedule-selection"),
    path("folders/<uuid:folder_id>/schedule/", views.folder_schedule, name="folder-schedule"),
    path("devices/<uuid:device_id>/schedule/", views.device_schedule, name="device-schedule"),
    path("upgrade/", job_views.upgrade_review, name="upgrade-review"),
    path("tasks/", job_views.task_list, name="task-list"),
    path("tasks/<uuid:task_id>/retry/", job_views.task_retry, name="task-retry"),
    path("jobs/<uuid:job_id>/", job_views.job_detail, name="job-detail"),
    *(
        path(
            f"jobs/<uuid:job_id>/{action}/",
            job_views.job_action,
            {"action": action},
            name=f"job-{action}",
        )
        for action in job_views.JOB_ACTIONS
    ),
]
