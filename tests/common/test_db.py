"""Joined statements (common.db): reads in one round trip, writes at the end of a block."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common.db import fetch_in_order, write, writes_joined
from organizations.models import Folder, Organization
from tests.organizations.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_fetch_in_order_answers_each_select_in_one_round_trip():
    first, second = OrganizationFactory(name="First"), OrganizationFactory(name="Second")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        organizations, folders = fetch_in_order(
            Organization.objects.filter(pk__in=[first.pk, second.pk])
            .order_by("name")
            .select_for_update(),
            Folder.objects.filter(organization=second).order_by("pk"),
        )
    assert [organization.name for organization in organizations] == ["First", "Second"]
    assert folders == [second.top_folder]
    assert folders[0].organization_id == second.pk
    assert len([query for query in queries if query["sql"].startswith("SELECT")]) == 1


def test_fetch_in_order_reads_whole_rows_only():
    with pytest.raises(ValueError, match="whole model rows"):
        fetch_in_order(Folder.objects.select_related("organization"))
    with pytest.raises(ValueError, match="whole model rows"):
        fetch_in_order(Folder.objects.only("name"))


def _rename(organization, name):
    table = connection.ops.quote_name(Organization._meta.db_table)
    write(f'UPDATE {table} SET "name" = %s WHERE "id" = %s', [name, organization.pk])  # noqa: S608


def test_writes_of_a_joined_block_are_sent_when_it_ends():
    organization = OrganizationFactory(name="Before")
    with transaction.atomic():
        with writes_joined():
            _rename(organization, "After")
            assert Organization.objects.get(pk=organization.pk).name == "Before"
        assert Organization.objects.get(pk=organization.pk).name == "After"


def test_nothing_is_sent_when_a_joined_block_fails():
    organization = OrganizationFactory(name="Before")
    with transaction.atomic(), pytest.raises(RuntimeError), writes_joined():  # noqa: PT012
        _rename(organization, "After")
        raise RuntimeError("a check failed")
    assert Organization.objects.get(pk=organization.pk).name == "Before"
