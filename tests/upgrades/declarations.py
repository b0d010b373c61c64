"""What the upgrades app adds to the cross-tenant probe and the role table (its schedule routes
take folder_id and device_id, declared by the organizations and devices tests)."""

from organizations.roles import Action
from tests.devices.factories import DeviceFactory
from tests.support.registry import ALL, NO, RouteId, declare_role_rows, declare_route_ids
from upgrades.models import FirmwareRelease, TaskState, UpgradeJob, UpgradeTask

# PRODUCT.md §3 and §6: upgrades and schedules are admin+; everyone else only looks.
declare_role_rows({Action.UPGRADE_MANAGE: (ALL, ALL, NO, NO)})


def _task_in(tenant, folder) -> UpgradeTask:
    """A failed upgrade of a device in `folder` (its job is seen only by who sees the device)."""
    from tests.upgrades.factories import add_test_release

    release = FirmwareRelease.objects.filter(version="12.11.100").first() or add_test_release(
        "12.11.100", ("P3265-V",)
    )
    device = DeviceFactory(folder=folder, firmware_version="12.11.9")
    job = UpgradeJob.objects.create(
        organization=tenant.organization,
        created_by_label="probe",
        origin=UpgradeJob.Origin.MANUAL,
    )
    return UpgradeTask.objects.create(
        job=job,
        organization=tenant.organization,
        device=device,
        release=release,
        from_version="12.11.9",
        to_version=release.version,
        state=TaskState.FAILED,
        reason="Wrong credentials",
        reason_code="auth_failed",
    )


declare_route_ids(
    RouteId("job_id", make=lambda tenant, folder: _task_in(tenant, folder).job_id, in_folder=True),
    RouteId("task_id", make=lambda tenant, folder: _task_in(tenant, folder).pk, in_folder=True),
)
