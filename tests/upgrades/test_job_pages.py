"""Upgrade pages: the device list's action, the review, Upgrade, the Tasks view, the job page
and its actions (pause, resume, cancel, retry)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from devices.models import Device
from devices.selectors import visible_devices
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release
from upgrades.models import TaskState, UpgradeJob, UpgradeTask
from upgrades.services import create_job, transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(tenant, other_tenant):
    add_test_release("12.11.100", ("P3265-V",))
    return {
        "due": DeviceFactory(folder=tenant.building_a1, name="a-due", firmware_version="12.11.9"),
        "due_b": DeviceFactory(folder=tenant.site_b, name="b-due", firmware_version="12.11.80"),
        "current": DeviceFactory(
            folder=tenant.site_a, name="c-current", firmware_version="12.11.100"
        ),
        "offline": DeviceFactory(
            folder=tenant.site_a,
            name="d-offline",
            firmware_version="12.11.9",
            status=Device.Status.OFFLINE,
        ),
        "other_model": DeviceFactory(
            folder=tenant.site_a, name="e-q1656", product_number="Q1656", firmware_version="1.0"
        ),
        "theirs": DeviceFactory(
            folder=other_tenant.site_a, name="theirs", firmware_version="12.11.9"
        ),
    }


def _url(name, membership, *args):
    return reverse(f"upgrades:{name}", args=[membership.organization_id, *args])


def _job(membership, *devices) -> UpgradeJob:
    job, _review = create_job(
        membership=membership,
        devices=visible_devices(membership).filter(pk__in=[d.pk for d in devices]),
    )
    return job


# --- The device list's action and the review -------------------------------------------------


def test_only_admins_and_owners_see_the_upgrade_action(
    client, admin, owner, operator, viewer, fleet
):
    url = reverse("devices:device-list", args=[admin.organization_id])
    for membership, shown in ((owner, True), (admin, True), (operator, False), (viewer, False)):
        client.force_login(membership.user)
        html = client.get(url).content.decode()
        assert ('id="device-upgrade-selected"' in html) is shown, membership.role
        assert ('id="device-upgrade-all"' in html) is shown, membership.role


def test_ticked_devices_are_reviewed_each_with_its_version_or_why_not(client, admin, fleet):
    client.force_login(admin.user)
    chosen = [fleet[name].pk for name in ("due", "due_b", "current", "offline", "other_model")]
    response = client.post(
        _url("upgrade-review", admin), {"selection": chosen, "query": "model=P3265-V"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    rows = {
        row.device.name: row.skip_code or row.release.version
        for row in response.context["review"].rows
    }
    assert rows == {
        "a-due": "12.11.100",
        "b-due": "12.11.100",
        "c-current": "up_to_date",
        "d-offline": "offline",
        "e-q1656": "no_release_for_model",
    }
    assert "2 devices will be upgraded. 3 devices are skipped." in html
    assert "Up to date" in html
    assert "Offline: it did not answer its last health check." in html
    assert "Upgrade 2 devices" in html
    assert UpgradeJob.objects.count() == 0  # reviewing changes nothing


def test_upgrade_creates_the_job_and_opens_its_page(client, admin, fleet):
    client.force_login(admin.user)
    chosen = [fleet["due"].pk, fleet["current"].pk]
    response = client.post(_url("upgrade-review", admin), {"selection": chosen, "confirm": "1"})
    job = UpgradeJob.objects.get()
    assert response.status_code == 302
    assert response.url == _url("job-detail", admin, job.pk)
    task = UpgradeTask.objects.get()
    assert (task.device, task.to_version, task.state) == (fleet["due"], "12.11.100", "queued")
    assert AuditEvent.objects.filter(action="upgrade.job_create").count() == 1
    page = client.get(response.url)
    assert "Upgrading 1 device." in page.content.decode()


def test_a_second_upgrade_of_the_same_devices_is_refused_with_the_review(client, admin, fleet):
    client.force_login(admin.user)
    data = {"selection": [fleet["due"].pk], "confirm": "1"}
    client.post(_url("upgrade-review", admin), data)
    again = client.post(_url("upgrade-review", admin), data, follow=True)
    assert again.status_code == 200
    html = again.content.decode()
    assert "These devices are already being upgraded." in html
    assert "Already upgrading" in html
    assert UpgradeTask.objects.count() == 1


def test_all_devices_matching_the_list_filters_are_reviewed(client, admin, fleet):
    client.force_login(admin.user)
    query = "model=P3265-V&upgrade_recommended=true"
    response = client.get(f"{_url('upgrade-review', admin)}?scope=all&{query}&page=3")
    assert response.status_code == 200
    names = sorted(row.device.name for row in response.context["review"].rows)
    assert names == ["a-due", "b-due", "d-offline"]
    html = response.content.decode()
    assert f'name="filter_query" value="{query.replace("&", "&amp;")}"' in html
    created = client.post(
        _url("upgrade-review", admin), {"scope": "all", "filter_query": query, "confirm": "1"}
    )
    assert created.status_code == 302
    assert sorted(UpgradeTask.objects.values_list("device__name", flat=True)) == [
        "a-due",
        "b-due",
    ]


def test_a_bad_filter_or_no_selection_goes_back_to_the_list_with_the_reason(client, admin, fleet):
    client.force_login(admin.user)
    response = client.post(_url("upgrade-review", admin), {"query": "model=P3265-V"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("/devices/?model=P3265-V")
    assert "Select at least one device to upgrade." in response.content.decode()
    bad = client.get(f"{_url('upgrade-review', admin)}?scope=all&status=melted", follow=True)
    assert "Some filters are not valid; see the fields." in bad.content.decode()


def test_a_selection_larger_than_a_job_takes_goes_back_with_the_limit(
    client, admin, fleet, monkeypatch
):
    monkeypatch.setattr("upgrades.services.jobs.MAX_DEVICES_PER_JOB", 1)
    client.force_login(admin.user)
    response = client.get(f"{_url('upgrade-review', admin)}?scope=all&model=P3265-V", follow=True)
    assert response.redirect_chain[-1][0].endswith("/devices/?model=P3265-V")
    assert "Upgrade at most 1 devices at once." in response.content.decode()
    assert UpgradeJob.objects.count() == 0


def test_operators_and_viewers_may_not_review_or_upgrade(client, operator, viewer, fleet):
    for membership in (operator, viewer):
        client.force_login(membership.user)
        data = {"selection": [fleet["due"].pk], "confirm": "1"}
        assert client.post(_url("upgrade-review", membership), data).status_code == 403
        assert client.get(f"{_url('upgrade-review', membership)}?scope=all").status_code == 403
    assert UpgradeJob.objects.count() == 0


def test_a_device_of_another_organization_is_not_found(client, admin, fleet):
    client.force_login(admin.user)
    data = {"selection": [fleet["due"].pk, fleet["theirs"].pk], "confirm": "1"}
    assert client.post(_url("upgrade-review", admin), data).status_code == 404
    junk = {"selection": ["not-an-id"]}
    assert client.post(_url("upgrade-review", admin), junk).status_code == 404
    assert UpgradeJob.objects.count() == 0


# --- The Tasks view ---------------------------------------------------------------------------


def _tasks_page(client, membership, expected=200, **query):
    client.force_login(membership.user)
    response = client.get(_url("task-list", membership), query)
    assert response.status_code == expected, response.content.decode()[:2000]
    return response


def _task_names(response) -> list[str]:
    return [task.device.name for task in response.context["tasks"]]


def test_the_tasks_view_lists_tasks_of_the_devices_a_member_sees(
    client, admin, viewer, operator, other_tenant, fleet
):
    _job(admin, fleet["due"], fleet["due_b"])
    _job(other_tenant.admin, fleet["theirs"])
    html = _tasks_page(client, admin).content.decode()
    assert sorted(_task_names(_tasks_page(client, admin))) == ["a-due", "b-due"]
    assert "12.11.9 → 12.11.100" in html
    assert "Queued" in html
    assert _task_names(_tasks_page(client, viewer)) == ["a-due"]  # building_a1 only
    assert _task_names(_tasks_page(client, operator)) == ["a-due"]  # site_a and below


def test_the_tasks_view_filters_by_state_phase_job_and_device(client, admin, fleet):
    first = _job(admin, fleet["due"])
    second = _job(admin, fleet["due_b"])
    task = UpgradeTask.objects.get(device=fleet["due"])
    transition(task, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    assert _task_names(_tasks_page(client, admin, state="failed")) == ["a-due"]
    assert _task_names(_tasks_page(client, admin, phase="in_progress")) == ["b-due"]
    assert _task_names(_tasks_page(client, admin, phase="finished")) == ["a-due"]
    assert _task_names(_tasks_page(client, admin, job=str(second.pk))) == ["b-due"]
    assert _task_names(_tasks_page(client, admin, job=str(first.pk))) == ["a-due"]
    assert _task_names(_tasks_page(client, admin, q="B-DU")) == ["b-due"]
    assert _task_names(_tasks_page(client, admin, device=str(fleet["due_b"].pk))) == ["b-due"]
    assert "Wrong credentials" in _tasks_page(client, admin).content.decode()


def test_a_job_or_device_outside_reach_is_an_error_on_its_field(
    client, admin, viewer, other_tenant, fleet
):
    theirs = _job(other_tenant.admin, fleet["theirs"])
    response = _tasks_page(client, admin, expected=400, job=str(theirs.pk))
    assert "Choose a job from the list." in response.content.decode()
    response = _tasks_page(client, viewer, expected=400, device=str(fleet["due_b"].pk))
    assert "Choose a device you can see." in response.content.decode()
    response = _tasks_page(client, admin, expected=400, state="melted")
    assert response.context["tasks"] == []


def test_the_table_polls_only_while_a_task_is_in_progress(client, admin, fleet):
    _job(admin, fleet["due"])
    live = _tasks_page(client, admin, phase="in_progress").content.decode()
    assert re.search(r'id="upgrade-tasks" hx-get="[^"]*phase=in_progress" hx-trigger="every', live)
    partial = client.get(
        _url("task-list", admin), {"phase": "in_progress"}, headers={"HX-Request": "true"}
    )
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="upgrade-tasks"')
    assert "<html" not in body
    transition(
        UpgradeTask.objects.get(), TaskState.CANCELLED, reason="Cancelled", reason_code="cancelled"
    )
    done = client.get(_url("task-list", admin), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done
    assert "Cancelled" in done


def test_the_tasks_view_costs_the_same_queries_whatever_the_number_of_tasks(
    client, admin, tenant, fleet
):
    _job(admin, fleet["due"])
    _tasks_page(client, admin)
    with CaptureQueriesContext(connection) as few:
        _tasks_page(client, admin)
    devices = [
        DeviceFactory(folder=tenant.site_b, firmware_version=f"12.11.{n}") for n in range(20)
    ]
    _job(admin, *devices)
    with CaptureQueriesContext(connection) as many:
        response = _tasks_page(client, admin)
    assert len(response.context["tasks"]) == 21
    assert len(many) == len(few)


def test_the_tasks_tab_is_beside_the_device_list(client, viewer, fleet):
    html = _tasks_page(client, viewer).content.decode()
    assert f'aria-current="page" href="{_url("task-list", viewer)}">Tasks' in html
    devices = reverse("devices:device-list", args=[viewer.organization_id])
    assert f'href="{devices}">Devices</a></li>' in html


def test_the_tasks_view_in_japanese(client, admin, fleet):
    _job(admin, fleet["due"])
    client.force_login(admin.user)
    html = client.get(_url("task-list", admin), headers={"accept-language": "ja"}).content.decode()
    assert "ソフトウェアアップグレードのタスク" in html


# --- The job page and its actions -------------------------------------------------------------


def test_the_job_page_counts_tasks_by_state_and_draws_them(client, admin, viewer, fleet):
    job = _job(admin, fleet["due"], fleet["due_b"])
    transition(
        UpgradeTask.objects.get(device=fleet["due_b"]),
        TaskState.CANCELLED,
        reason="Cancelled",
        reason_code="cancelled",
    )
    client.force_login(admin.user)
    response = client.get(_url("job-detail", admin, job.pk))
    html = response.content.decode()
    assert response.context["chart"]["counts"] == [1, 1]
    assert 'id="job-chart-data"' in html
    assert "js/upgrades.js" in html
    assert "<script>" not in html
    assert re.search(r'id="job-live" hx-get="[^"]+" hx-trigger="every', html)
    assert 'href="{}"'.format(_url("job-pause", admin, job.pk)) in html
    # A viewer sees the task of the device they see, and no actions.
    client.force_login(viewer.user)
    response = client.get(_url("job-detail", viewer, job.pk))
    assert [task.device.name for task in response.context["tasks"]] == ["a-due"]
    assert _url("job-pause", viewer, job.pk) not in response.content.decode()


def test_the_job_page_costs_the_same_queries_whatever_the_number_of_tasks(
    client, admin, tenant, fleet
):
    small = _job(admin, fleet["due"])
    big = _job(
        admin,
        *[DeviceFactory(folder=tenant.site_b, firmware_version=f"12.11.{n}") for n in range(20)],
    )
    client.force_login(admin.user)
    client.get(_url("job-detail", admin, small.pk))
    counted = []
    for job in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(_url("job-detail", admin, job.pk))
        assert response.status_code == 200
        counted.append(len(queries))
    assert len(response.context["tasks"]) == 20
    assert counted[0] == counted[1]


def test_pause_resume_and_cancel_ask_first_then_act_audited(client, admin, fleet):
    job = _job(admin, fleet["due"], fleet["due_b"])
    client.force_login(admin.user)
    confirm = client.get(_url("job-pause", admin, job.pk))
    assert "Pause this upgrade job?" in confirm.content.decode()
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING
    paused = client.post(_url("job-pause", admin, job.pk), follow=True)
    assert "The upgrade job is paused." in paused.content.decode()
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.PAUSED
    refused = client.post(_url("job-pause", admin, job.pk), follow=True)
    assert "Only a running upgrade job can be paused." in refused.content.decode()
    client.post(_url("job-resume", admin, job.pk))
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING
    client.post(_url("job-cancel", admin, job.pk))
    assert set(UpgradeTask.objects.values_list("state", flat=True)) == {"cancelled"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"upgrade.job_pause", "upgrade.job_resume", "upgrade.job_cancel"} <= actions


def test_a_failed_task_is_retried_after_confirmation(client, admin, fleet):
    _job(admin, fleet["due"])
    task = UpgradeTask.objects.get()
    transition(task, TaskState.FAILED, reason="The device refused the image", reason_code="x")
    client.force_login(admin.user)
    table = client.get(_url("task-list", admin)).content.decode()
    assert _url("task-retry", admin, task.pk) in table
    confirm = client.get(_url("task-retry", admin, task.pk)).content.decode()
    assert "Retry the upgrade of a-due?" in confirm
    assert "The device refused the image" in confirm
    client.post(_url("task-retry", admin, task.pk))
    task.refresh_from_db()
    assert (task.state, task.attempt) == ("queued", 2)
    assert AuditEvent.objects.filter(action="upgrade.task_retry").count() == 1


def test_operators_and_viewers_may_not_act_on_jobs(client, admin, operator, viewer, fleet):
    job = _job(admin, fleet["due"], fleet["due_b"])
    task = UpgradeTask.objects.get(device=fleet["due"])
    transition(task, TaskState.FAILED, reason="x", reason_code="x")
    for membership in (operator, viewer):
        client.force_login(membership.user)
        for action in ("pause", "resume", "cancel"):
            assert client.post(_url(f"job-{action}", membership, job.pk)).status_code == 403
        assert client.post(_url("task-retry", membership, task.pk)).status_code == 403
    job.refresh_from_db()
    task.refresh_from_db()
    assert (job.status, task.state) == ("running", "failed")


def test_jobs_and_tasks_of_another_organization_are_not_found(client, admin, other_tenant, fleet):
    job = _job(other_tenant.admin, fleet["theirs"])
    task = UpgradeTask.objects.get()
    client.force_login(admin.user)
    assert client.get(_url("job-detail", admin, job.pk)).status_code == 404
    assert client.post(_url("job-pause", admin, job.pk)).status_code == 404
    assert client.post(_url("task-retry", admin, task.pk)).status_code == 404
