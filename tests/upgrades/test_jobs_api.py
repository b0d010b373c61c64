"""The upgrade jobs and tasks API: review and create, list, counts, actions, tasks, tenancy."""

import pytest
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
def releases(db):
    return {
        "12.11.100": add_test_release("12.11.100", ("P3265-V",)),
        "11.11.192": add_test_release("11.11.192", ("M1075-L",)),
    }


@pytest.fixture
def fleet(tenant, other_tenant, releases):
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
        "m1075": DeviceFactory(
            folder=tenant.site_b,
            name="e-m1075",
            product_number="M1075-L",
            firmware_version="11.11.160",
        ),
        "theirs": DeviceFactory(
            folder=other_tenant.site_a, name="theirs", firmware_version="12.11.9"
        ),
    }


def _url(name, membership, *args):
    return reverse(f"api:{name}", args=[membership.organization_id, *args])


def _post(api, membership, name, body=None, *args):
    return api.login(membership).post(_url(name, membership, *args), body or {})


def _job(membership, *devices) -> UpgradeJob:
    job, _review = create_job(
        membership=membership,
        devices=visible_devices(membership).filter(pk__in=[d.pk for d in devices]),
    )
    return job


def test_a_dry_run_answers_the_review_and_starts_nothing(api, admin, fleet):
    ids = [str(fleet[name].pk) for name in ("due", "current", "offline", "m1075")]
    response = _post(api, admin, "upgrade-job-list", {"devices": ids, "dry_run": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["job"] is None
    assert (body["upgrade_count"], body["skipped_count"]) == (2, 2)
    rows = {row["name"]: row for row in body["devices"]}
    assert rows["a-due"]["target_version"] == "12.11.100"
    assert rows["a-due"]["from_version"] == "12.11.9"
    assert rows["a-due"]["skip_code"] is None
    assert rows["c-current"]["skip_code"] == "up_to_date"
    assert rows["c-current"]["target_version"] is None
    assert rows["d-offline"]["skip_code"] == "offline"
    assert rows["d-offline"]["skip_message"]
    assert rows["e-m1075"]["target_version"] == "11.11.192"
    assert UpgradeJob.objects.count() == 0


def test_creating_a_job_answers_201_with_the_job_and_its_counts(api, admin, fleet):
    ids = [str(fleet["due"].pk), str(fleet["current"].pk)]
    response = _post(api, admin, "upgrade-job-list", {"devices": ids})
    assert response.status_code == 201, response.content
    job = response.json()["job"]
    assert job["status"] == "running"
    assert job["origin"] == "manual"
    assert job["release"] is None
    assert job["counts"]["queued"] == 1
    assert sum(job["counts"].values()) == 1
    assert UpgradeTask.objects.get().device == fleet["due"]
    assert AuditEvent.objects.filter(action="upgrade.job_create").count() == 1


def test_devices_can_be_named_by_the_device_list_filters(api, admin, fleet):
    body = {"filter": {"model": "P3265-V", "upgrade_recommended": True}, "dry_run": True}
    response = _post(api, admin, "upgrade-job-list", body)
    assert response.status_code == 200, response.content
    assert sorted(row["name"] for row in response.json()["devices"]) == [
        "a-due",
        "b-due",
        "d-offline",
    ]
    bad = _post(api, admin, "upgrade-job-list", {"filter": {"status": ["melted"]}})
    assert bad.status_code == 400
    assert "filter" in bad.json()["error"]["fields"]


def test_an_explicit_release_skips_the_devices_it_does_not_fit(api, admin, fleet, releases):
    ids = [str(fleet["due"].pk), str(fleet["m1075"].pk)]
    body = {"devices": ids, "release": str(releases["12.11.100"].pk)}
    response = _post(api, admin, "upgrade-job-list", body)
    assert response.status_code == 201, response.content
    rows = {row["name"]: row for row in response.json()["devices"]}
    assert rows["e-m1075"]["skip_code"] == "release_not_for_model"
    assert response.json()["job"]["release"] == "12.11.100"


def test_bad_bodies_are_refused_with_the_field(api, admin, fleet):
    due = str(fleet["due"].pk)
    neither = _post(api, admin, "upgrade-job-list", {"dry_run": True})
    assert neither.status_code == 400
    assert set(neither.json()["error"]["fields"]) == {"devices"}
    both = _post(api, admin, "upgrade-job-list", {"devices": [due], "filter": {}})
    assert both.status_code == 400
    unknown = _post(
        api,
        admin,
        "upgrade-job-list",
        {"devices": [due], "release": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {"release": ["No such release in the catalog."]}
    assert _post(api, admin, "upgrade-job-list", {"devices": [123]}).status_code == 400
    assert UpgradeJob.objects.count() == 0


def test_nothing_to_upgrade_and_a_double_start_are_refused(api, admin, fleet):
    nothing = _post(api, admin, "upgrade-job-list", {"devices": [str(fleet["current"].pk)]})
    assert nothing.status_code == 400
    assert nothing.json()["error"]["code"] == "nothing_to_upgrade"
    body = {"devices": [str(fleet["due"].pk)]}
    assert _post(api, admin, "upgrade-job-list", body).status_code == 201
    again = _post(api, admin, "upgrade-job-list", body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_upgrading"
    assert UpgradeTask.objects.count() == 1


def test_another_organizations_device_in_the_body_is_not_found(api, admin, fleet):
    body = {"devices": [str(fleet["due"].pk), str(fleet["theirs"].pk)], "dry_run": True}
    response = _post(api, admin, "upgrade-job-list", body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"


def test_operators_and_viewers_may_read_but_not_start_or_act(api, admin, operator, viewer, fleet):
    job = _job(admin, fleet["due"])
    task = UpgradeTask.objects.get()
    transition(task, TaskState.FAILED, reason="x", reason_code="x")
    body = {"devices": [str(fleet["due"].pk)], "dry_run": True}
    for membership in (operator, viewer):
        assert _post(api, membership, "upgrade-job-list", body).status_code == 403
        for action in ("pause", "resume", "cancel"):
            assert _post(api, membership, f"upgrade-job-{action}", None, job.pk).status_code == 403
        assert _post(api, membership, "upgrade-task-retry", None, task.pk).status_code == 403
        client = api.login(membership)
        assert client.get(_url("upgrade-job-detail", membership, job.pk)).status_code == 200
        tasks = client.get(_url("upgrade-task-list", membership)).json()["results"]
        assert [t["device"]["name"] for t in tasks] == ["a-due"]


def test_jobs_are_listed_newest_first_with_the_tasks_the_caller_sees(
    api, admin, viewer, other_tenant, fleet
):
    first = _job(admin, fleet["due"], fleet["due_b"])
    second = _job(admin, fleet["m1075"])
    _job(other_tenant.admin, fleet["theirs"])
    jobs = api.login(admin).get(_url("upgrade-job-list", admin)).json()["results"]
    assert [job["id"] for job in jobs] == [str(second.pk), str(first.pk)]
    assert jobs[1]["counts"]["queued"] == 2
    # The viewer sees building_a1's device only: one job, one task of it counted.
    jobs = api.login(viewer).get(_url("upgrade-job-list", viewer)).json()["results"]
    assert [(job["id"], job["counts"]["queued"]) for job in jobs] == [(str(first.pk), 1)]
    detail = api.login(viewer).get(_url("upgrade-job-detail", viewer, first.pk)).json()
    assert detail["counts"]["queued"] == 1


def test_tasks_are_filtered_by_job_state_device_and_phase(api, admin, fleet):
    first = _job(admin, fleet["due"], fleet["due_b"])
    _job(admin, fleet["m1075"])
    failed = UpgradeTask.objects.get(device=fleet["due"])
    transition(failed, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    client = api.login(admin)
    url = _url("upgrade-task-list", admin)

    def names(query):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return sorted(task["device"]["name"] for task in response.json()["results"])

    assert names(f"job={first.pk}") == ["a-due", "b-due"]
    assert names("state=failed") == ["a-due"]
    assert names("state=failed&state=queued") == ["a-due", "b-due", "e-m1075"]
    assert names(f"device={fleet['m1075'].pk}") == ["e-m1075"]
    assert names("phase=finished") == ["a-due"]
    task = client.get(f"{url}?state=failed").json()["results"][0]
    assert task["reason"] == "Wrong credentials"
    assert task["reason_code"] == "auth_failed"
    assert (task["from_version"], task["to_version"]) == ("12.11.9", "12.11.100")
    assert task["finished_at"] is not None
    for query, field in (("state=", "state"), ("job=", "job"), ("state=melted", "state")):
        refused = client.get(f"{url}?{query}")
        assert refused.status_code == 400
        assert set(refused.json()["error"]["fields"]) == {field}


def test_another_organizations_job_or_device_in_the_task_filter_is_refused(
    api, admin, other_tenant, fleet
):
    theirs = _job(other_tenant.admin, fleet["theirs"])
    client = api.login(admin)
    url = _url("upgrade-task-list", admin)
    assert client.get(f"{url}?job={theirs.pk}").status_code == 400
    assert client.get(f"{url}?device={fleet['theirs'].pk}").status_code == 400


def test_pause_resume_cancel_and_retry(api, admin, fleet):
    job = _job(admin, fleet["due"], fleet["due_b"])
    paused = _post(api, admin, "upgrade-job-pause", None, job.pk)
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    again = _post(api, admin, "upgrade-job-pause", None, job.pk)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_not_running"
    assert _post(api, admin, "upgrade-job-resume", None, job.pk).json()["status"] == "running"
    failed = UpgradeTask.objects.get(device=fleet["due"])
    transition(failed, TaskState.FAILED, reason="x", reason_code="x")
    not_failed = UpgradeTask.objects.get(device=fleet["due_b"])
    refused = _post(api, admin, "upgrade-task-retry", None, not_failed.pk)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "task_not_failed"
    retried = _post(api, admin, "upgrade-task-retry", None, failed.pk)
    assert retried.status_code == 200
    assert (retried.json()["state"], retried.json()["attempt"]) == ("queued", 2)
    cancelled = _post(api, admin, "upgrade-job-cancel", None, job.pk)
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled"] == 2
    assert cancelled.json()["job"]["counts"]["cancelled"] == 2


def test_another_organizations_job_and_task_are_404(api, admin, other_tenant, fleet):
    job = _job(other_tenant.admin, fleet["theirs"])
    task = UpgradeTask.objects.get()
    client = api.login(admin)
    assert client.get(_url("upgrade-job-detail", admin, job.pk)).status_code == 404
    assert _post(api, admin, "upgrade-job-pause", None, job.pk).status_code == 404
    assert _post(api, admin, "upgrade-task-retry", None, task.pk).status_code == 404
    job.refresh_from_db()
    assert job.status == "running"


def test_the_actions_answer_as_written_without_the_trailing_slash(api, admin, other_tenant, fleet):
    """Scripts written from the issue's `…/pause` and `…/retry` reach the same actions."""
    job = _job(admin, fleet["due"])
    client = api.login(admin)
    pause = _url("upgrade-job-pause", admin, job.pk).rstrip("/")
    assert client.post(pause, {}).json()["status"] == "paused"
    resume = _url("upgrade-job-resume", admin, job.pk).rstrip("/")
    assert client.post(resume, {}).json()["status"] == "running"
    theirs = _job(other_tenant.admin, fleet["theirs"])
    other = _url("upgrade-job-cancel", admin, theirs.pk).rstrip("/")
    assert client.post(other, {}).status_code == 404
    schema = client.get("/api/v1/schema/?format=json").json()
    assert not [route for route in schema["paths"] if route.endswith(("/pause", "/retry"))]
