"""Factories for tenants: organizations with their top folder, folders, memberships, invitations.

Graphs stay consistent: a folder's organization is its parent's, a membership's grants are
folders of its own organization.
"""

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from organizations.models import Folder, Invitation, Membership, Organization
from organizations.roles import Role
from organizations.tokens import hash_secret
from tests.accounts.factories import UserFactory


def _folder_path(parent: Folder | None, folder_id: uuid.UUID) -> str:
    return f"{parent.path if parent else ''}{folder_id}/"


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An organization with its top folder (`organization.top_folder`), named after it."""

    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organization {n}")

    @factory.post_generation
    def top_folder(obj, create, extracted, **kwargs):
        if create:
            obj.top_folder = FolderFactory(organization=obj, parent=None, name=obj.name)


class FolderFactory(factory.django.DjangoModelFactory):
    """A folder under `parent` (default: a new organization's top folder)."""

    class Meta:
        model = Folder

    id = factory.LazyFunction(uuid.uuid4)
    parent = factory.LazyAttribute(lambda o: OrganizationFactory().top_folder)
    organization = factory.LazyAttribute(lambda o: o.parent.organization)
    name = factory.Sequence(lambda n: f"Folder {n}")
    path = factory.LazyAttribute(lambda o: _folder_path(o.parent, o.id))
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1 if o.parent else 0)


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member with a role; pass `folders=[…]` to grant folders (operators and viewers)."""

    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER

    @factory.post_generation
    def folders(obj, create, extracted, **kwargs):
        if create and extracted:
            from organizations import access

            access.set_folder_grants(obj, extracted)


def _an_owner(organization: Organization) -> Membership:
    owner = (
        Membership.objects.filter(organization=organization, role=Role.OWNER)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return owner or MembershipFactory(organization=organization, role=Role.OWNER)


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; the raw token is `invitation.raw_token`."""

    class Meta:
        model = Invitation
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    raw_token = factory.LazyFunction(lambda: uuid.uuid4().hex)
    token_hash = factory.LazyAttribute(lambda o: hash_secret(o.raw_token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    # Sent by an owner of the organization (made for it when it has none): acceptance checks
    # that the sender may still send it.
    invited_by = factory.LazyAttribute(lambda o: _an_owner(o.organization).user)

    @classmethod
    def _create(cls, model_class, *args, raw_token, **kwargs):
        invitation = super()._create(model_class, *args, **kwargs)
        invitation.raw_token = raw_token
        return invitation
