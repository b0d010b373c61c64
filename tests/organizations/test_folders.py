"""The folder tree: create, rename, move (never into its own subtree), delete only when empty."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction

from common.errors import Conflict, Forbidden, Invalid, NotFound
from organizations import selectors, services
from organizations.models import Folder
from tests.organizations.factories import FolderFactory


def test_folder_is_created_under_a_visible_parent(admin, folders):
    folder = services.create_folder(
        actor=admin, parent_id=folders.site_b.pk, name="Gate house", time_zone="Asia/Tokyo"
    )
    assert folder.parent == folders.site_b
    assert folder.path == f"{folders.site_b.path}{folder.pk}/"
    assert (folder.depth, folder.time_zone) == (2, "Asia/Tokyo")


def test_folder_names_are_unique_among_siblings(admin, folders):
    with pytest.raises(Conflict) as refused:
        services.create_folder(actor=admin, parent_id=folders.top.pk, name="Site A")
    assert refused.value.code == "folder_name_taken"


def test_the_same_name_is_fine_under_another_parent(admin, folders):
    assert services.create_folder(actor=admin, parent_id=folders.site_b.pk, name="Site A")


def test_unknown_time_zone_is_refused(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.create_folder(
            actor=admin, parent_id=folders.top.pk, name="X", time_zone="Mars/Olympus"
        )
    assert refused.value.code == "time_zone_unknown"


def test_operator_cannot_create_folders(operator, folders):
    with pytest.raises(Forbidden):
        services.create_folder(actor=operator, parent_id=folders.site_a.pk, name="Mine")


def test_parent_in_another_organization_is_not_found(admin, other_tenant):
    with pytest.raises(NotFound):
        services.create_folder(actor=admin, parent_id=other_tenant.top.pk, name="Sneaky")


def test_renaming_keeps_the_path(admin, folders):
    folder = services.rename_folder(actor=admin, folder_id=folders.site_a.pk, name="North")
    assert folder.name == "North"
    assert folder.path == folders.site_a.path


def test_renaming_to_a_sibling_name_is_refused(admin, folders):
    with pytest.raises(Conflict):
        services.rename_folder(actor=admin, folder_id=folders.site_a.pk, name="Site B")


def test_moving_a_folder_rewrites_its_whole_subtree(admin, folders):
    services.move_folder(
        actor=admin, folder_id=folders.building_a1.pk, new_parent_id=folders.site_b.pk
    )
    building = Folder.objects.get(pk=folders.building_a1.pk)
    room = Folder.objects.get(pk=folders.room_a1x.pk)
    assert building.parent_id == folders.site_b.pk
    assert building.path == f"{folders.site_b.path}{building.pk}/"
    assert room.path == f"{building.path}{room.pk}/"
    assert (building.depth, room.depth) == (2, 3)


def test_moving_changes_what_grant_holders_see(admin, folders):
    services.move_folder(
        actor=admin, folder_id=folders.room_a1x.pk, new_parent_id=folders.site_b.pk
    )
    assert set(selectors.visible_folders(folders.viewer)) == {folders.building_a1}


def test_moving_into_its_own_subtree_is_refused(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.move_folder(
            actor=admin, folder_id=folders.site_a.pk, new_parent_id=folders.room_a1x.pk
        )
    assert refused.value.code == "move_into_subtree"
    assert Folder.objects.get(pk=folders.site_a.pk).parent_id == folders.top.pk


def test_moving_into_itself_is_refused(admin, folders):
    with pytest.raises(Invalid):
        services.move_folder(
            actor=admin, folder_id=folders.site_a.pk, new_parent_id=folders.site_a.pk
        )


def test_the_top_folder_cannot_be_moved(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.move_folder(actor=admin, folder_id=folders.top.pk, new_parent_id=folders.site_b.pk)
    assert refused.value.code == "top_folder"


def test_moving_next_to_a_folder_of_the_same_name_is_refused(admin, folders):
    FolderFactory(parent=folders.site_b, name="Building A1")
    with pytest.raises(Conflict):
        services.move_folder(
            actor=admin, folder_id=folders.building_a1.pk, new_parent_id=folders.site_b.pk
        )


def test_an_empty_folder_is_deleted_after_the_risk_box(admin, folders):
    services.delete_folder(actor=admin, folder_id=folders.site_b.pk, understood=True)
    assert not Folder.objects.filter(pk=folders.site_b.pk).exists()


def test_deleting_needs_the_risk_box(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.delete_folder(actor=admin, folder_id=folders.site_b.pk, understood=False)
    assert refused.value.code == "risk_not_acknowledged"


def test_a_folder_with_subfolders_is_not_deleted(admin, folders):
    with pytest.raises(Conflict) as refused:
        services.delete_folder(actor=admin, folder_id=folders.site_a.pk, understood=True)
    assert refused.value.code == "folder_has_subfolders"


def test_the_top_folder_is_never_deleted(owner, folders):
    with pytest.raises(Invalid) as refused:
        services.delete_folder(actor=owner, folder_id=folders.top.pk, understood=True)
    assert refused.value.code == "top_folder"


def test_deleting_a_granted_folder_removes_the_grant(admin, folders):
    services.delete_folder(actor=admin, folder_id=folders.room_a1x.pk, understood=True)
    assert set(selectors.visible_folders(folders.viewer)) == {folders.building_a1}


def test_an_empty_folder_has_no_contents(folders):
    assert selectors.count_folder_contents(folders.site_b) == {}


def test_database_refuses_a_parent_from_another_organization(folders, other_tenant):
    stray = FolderFactory(parent=other_tenant.top)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS folder_parent_same_organization IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():
        Folder.objects.filter(pk=stray.pk).update(parent=folders.site_a)


def test_subtree_queries_have_a_prefix_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'folder_organization_path_prefix'"
        )
        [(definition,)] = cursor.fetchall()
    assert "text_pattern_ops" in definition


def test_the_organization_path_index_is_the_only_prefix_index(db):
    # A second pattern index on `path` alone was smaller, so the planner took it and spent
    # planning time weighing both on every visibility query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'organizations_folder'"
            " AND indexdef LIKE '%%pattern_ops%%'"
        )
        assert cursor.fetchall() == [("folder_organization_path_prefix",)]


def test_folder_tree_is_two_queries_in_display_order(
    viewer, operator, folders, django_assert_num_queries
):
    FolderFactory(parent=folders.site_a, name="Annex")
    with django_assert_num_queries(2):  # the granted paths, then the visible folders
        tree = selectors.folder_tree(operator)
    assert [(f.name, f.level) for f in tree] == [
        ("Site A", 0),
        ("Annex", 1),
        ("Building A1", 1),
        ("Room A1x", 2),
    ]
    assert [f.has_children for f in tree] == [True, False, True, False]


def test_folder_tree_inherits_time_zones(admin, folders):
    services.rename_folder(
        actor=admin, folder_id=folders.site_a.pk, name="Site A", time_zone="Asia/Tokyo"
    )
    tree = {f.name: f for f in selectors.folder_tree(admin)}
    assert tree["Room A1x"].effective_time_zone == "Asia/Tokyo"
    assert tree["Site B"].effective_time_zone == ""


def test_folder_tree_rows_match_the_folder_tree(
    admin, operator, folders, django_assert_num_queries
):
    FolderFactory(parent=folders.site_a, name="annex", time_zone="Asia/Tokyo")
    services.rename_folder(
        actor=admin, folder_id=folders.site_a.pk, name="Site A", time_zone="Europe/Paris"
    )
    for membership in (admin, operator):
        with django_assert_num_queries(2 if membership is operator else 1):
            rows = selectors.folder_tree_rows(membership)
        assert rows == [
            (f.pk, f.parent_id, f.name, f.level, f.effective_time_zone, f.has_children)
            for f in selectors.folder_tree(membership)
        ]
    assert [(row.name, row.level) for row in rows] == [
        ("Site A", 0),
        ("annex", 1),
        ("Building A1", 1),
        ("Room A1x", 2),
    ]


@pytest.fixture
def folder_things(db):
    """A throwaway model filed into folders, standing in for devices (created for one test)."""
    # Registered in an installed app, so Folder's relation tree sees it like a devices model.
    meta = type("Meta", (), {"app_label": "organizations", "db_table": "test_folder_thing"})
    thing = type(
        "FolderThing",
        (models.Model,),
        {
            "__module__": __name__,
            "folder": models.ForeignKey(Folder, on_delete=models.PROTECT, related_name="+"),
            "Meta": meta,
        },
    )
    with connection.schema_editor() as editor:
        editor.create_model(thing)
    yield thing
    del apps.all_models["organizations"]["folderthing"]
    apps.clear_cache()


def test_a_folder_holding_devices_is_not_deleted(admin, folders, folder_things):
    folder_things.objects.create(folder=folders.site_b)
    assert selectors.count_folder_contents(folders.site_b) == {"organizations.folderthing": 1}
    with pytest.raises(Conflict) as refused:
        services.delete_folder(actor=admin, folder_id=folders.site_b.pk, understood=True)
    assert refused.value.code == "folder_has_devices"
    assert Folder.objects.filter(pk=folders.site_b.pk).exists()


def test_archiving_records_what_the_folders_still_hold(owner, folders, folder_things):
    folder_things.objects.create(folder=folders.room_a1x)
    services.archive_organization(
        actor=owner, confirmation_id=str(folders.organization.pk), understood=True
    )
    event = folders.organization.audit_events.order_by("-sequence").first()
    assert event.data == {"organizations.folderthing": 1}


def test_a_folder_offered_in_an_invitation_is_still_empty(admin, folders):
    services.invite_members(
        actor=admin, emails=["x@example.com"], role="viewer", folder_ids=[folders.site_b.pk]
    )
    assert selectors.count_folder_contents(folders.site_b) == {}
    services.delete_folder(actor=admin, folder_id=folders.site_b.pk, understood=True)


def test_folder_names_among_siblings_ignore_case(admin, folders):
    with pytest.raises(Conflict) as refused:
        services.create_folder(actor=admin, parent_id=folders.top.pk, name="site a")
    assert refused.value.code == "folder_name_taken"
    with pytest.raises(Conflict):
        services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="SITE A")
    # A folder may change the case of its own name.
    assert services.rename_folder(actor=admin, folder_id=folders.site_a.pk, name="SITE A")
    assert Folder.objects.filter(organization=folders.organization).count() == 5


def _assert_paths_consistent(organization):
    by_id = {f.pk: f for f in Folder.objects.filter(organization=organization)}
    for folder in by_id.values():
        parent = by_id.get(folder.parent_id)
        expected = f"{parent.path if parent else ''}{folder.pk}/"
        assert folder.path == expected, folder
        assert folder.depth == (parent.depth + 1 if parent else 0), folder


@pytest.mark.django_db(transaction=True)
def test_two_admins_moving_folders_into_each_other_at_once_keep_the_tree_consistent(race):
    from tests.support.cast import build_tenant

    tenant = build_tenant("Race Corp")
    outcomes = race(
        lambda: services.move_folder(
            actor=tenant.owner, folder_id=tenant.site_a.pk, new_parent_id=tenant.site_b.pk
        ),
        lambda: services.move_folder(
            actor=tenant.admin, folder_id=tenant.site_b.pk, new_parent_id=tenant.room_a1x.pk
        ),
        lambda: services.create_folder(
            actor=tenant.admin, parent_id=tenant.building_a1.pk, name="Added meanwhile"
        ),
    )
    moved = [o for o in outcomes[:2] if isinstance(o, Folder)]
    refused = [o for o in outcomes[:2] if isinstance(o, Invalid)]
    assert len(moved) == 1, outcomes
    assert [error.code for error in refused] == ["move_into_subtree"], outcomes
    assert isinstance(outcomes[2], Folder), outcomes
    _assert_paths_consistent(tenant.organization)


@pytest.mark.parametrize("not_a_place", ["localtime", "Factory", "Mars/Olympus"])
def test_a_folder_time_zone_must_be_a_place(admin, folders, not_a_place):
    with pytest.raises(Invalid):
        services.rename_folder(
            actor=admin, folder_id=folders.site_a.pk, name="Site A", time_zone=not_a_place
        )
    folders.site_a.refresh_from_db()
    assert folders.site_a.time_zone == ""


def test_the_delete_refusal_is_the_services_own(admin, folders):
    expected = selectors.folder_deletion_refusal(folders.site_a)
    assert expected.code == "folder_has_subfolders"
    with pytest.raises(Conflict) as refused:
        services.delete_folder(actor=admin, folder_id=folders.site_a.pk, understood=True)
    assert (refused.value.code, str(refused.value.message)) == (
        expected.code,
        str(expected.message),
    )
    assert selectors.folder_deletion_refusal(folders.site_b) is None
