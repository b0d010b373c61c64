"""Camera-station servers on the Overview: counts by check-in state, the late and offline named."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.servers.factories import ServerFactory, ServerReleaseFactory

pytestmark = pytest.mark.django_db


def _overview(client, membership) -> str:
    client.force_login(membership.user)
    page = client.get(
        reverse("organizations:organization-detail", args=[membership.organization_id])
    )
    assert page.status_code == 200
    return page.content.decode()


@pytest.fixture
def servers(tenant, other_tenant, settings):
    now = timezone.now()
    late = now - timedelta(seconds=3 * settings.SERVER_CHECK_IN_INTERVAL)
    offline = now - timedelta(seconds=settings.SERVER_OFFLINE_AFTER + 60)
    ServerFactory(folder=tenant.site_a, name="Recorder on time")
    ServerFactory(folder=tenant.site_a, name="Recorder running late", last_check_in_at=late)
    ServerFactory(folder=tenant.site_b, name="Recorder gone quiet", last_check_in_at=offline)
    ServerFactory(folder=other_tenant.top, name="Their recorder", last_check_in_at=offline)


def test_the_overview_counts_servers_by_check_in_and_names_the_late_and_offline(
    client, tenant, servers
):
    ServerReleaseFactory(version="6.9.1", is_recommended=True)
    html = _overview(client, tenant.owner)
    assert 'data-state="online">1<' in html
    assert 'data-state="late">1<' in html
    assert 'data-state="offline">1<' in html
    assert "Recorder running late" in html
    assert "Recorder gone quiet" in html
    assert "Upgrade recommended for 3 servers." in html
    assert "Their recorder" not in html


def test_an_operator_sees_only_servers_in_their_folders(client, tenant, servers):
    html = _overview(client, tenant.operator)
    assert "Recorder running late" in html
    assert "Recorder gone quiet" not in html
    assert 'data-state="offline">0<' in html


def test_viewers_do_not_monitor_servers(client, tenant, servers):
    assert 'id="server-overview"' not in _overview(client, tenant.viewer)
