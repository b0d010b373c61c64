"""Tenancy: organizations, their members, folder trees, invitations, audit log and API tokens."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from common.text import validate_name_characters
from organizations.roles import Role


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "TenantQuerySet":
        organization_id = getattr(organization, "pk", organization)
        return self.filter(organization_id=organization_id)


class Organization(models.Model):
    """One tenant: a company or an integrator's customer, with its own members and devices."""

    id = models.UUIDField(
        _("organization ID"), primary_key=True, default=uuid.uuid4, editable=False
    )
    name = models.CharField(_("name"), max_length=120, validators=[validate_name_characters])
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    allow_elevated_invitations = models.BooleanField(
        _("allow operator and admin invitations"),
        default=False,
        help_text=_("Off: invitations are limited to the viewer role, for security."),
    )
    requires_mfa = models.BooleanField(
        _("members must use MFA"),
        default=False,
        help_text=_("Members without a second factor are sent to enrolment first."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, db_index=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The head of the audit hash chain: the last event's sequence and hash. Written only by
    # organizations.audit.record under the organization's row lock, so concurrent writers get
    # consecutive sequence numbers and a removed last event is still detected.
    audit_head_sequence = models.PositiveBigIntegerField(default=0, editable=False)
    audit_head_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:organization-detail", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    """One person's role in one organization."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("joined at"), default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                name="membership_one_per_person",
                violation_error_message=_("This person is already a member."),
            ),
            # The target of the composite foreign key that keeps an API token in its
            # membership's organization (migration 0004, PostgreSQL).
            models.UniqueConstraint(
                fields=["id", "organization"], name="membership_id_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.role}"

    @property
    def granted_folders(self) -> list["Folder"]:
        """The folders granted to this member, from `selectors.members`' prefetch when present."""
        grants = getattr(self.user, "organization_folder_grants", None)
        if grants is not None:
            return [grant.content_object for grant in grants]
        return list(
            Folder.objects.filter(
                organization_id=self.organization_id,
                folderuserobjectpermission__user_id=self.user_id,
                folderuserobjectpermission__permission__codename="view_folder",
            ).order_by("path")
        )


class Folder(models.Model):
    """One node of an organization's folder tree (a site, a building, a room).

    `path` is the materialized path of ancestor ids ("<top>/<child>/…/<self>/"), so a whole
    subtree is one indexed prefix query.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=120, validators=[validate_name_characters])
    path = models.CharField(max_length=2048, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=_("Empty: inherited from the parent.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        ordering = ["path"]
        permissions = [("operate_folder", _("Operate devices in folder"))]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="folder_name_unique_among_siblings",
                violation_error_message=_("A folder with this name already exists here."),
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(parent__isnull=True),
                name="folder_one_top_per_organization",
            ),
            models.UniqueConstraint(fields=["id", "organization"], name="folder_id_organization"),
        ]
        # The prefix index for subtree queries (organization_id = … AND path LIKE 'x/%') is
        # added on PostgreSQL by a migration with text_pattern_ops; `path` alone keeps a plain
        # index for equality. Not `db_index=True`: on PostgreSQL that adds a second pattern
        # index on `path` alone, which the planner preferred (it is smaller), costing planning
        # time on every visibility query and leaving the (organization, path) index unused.
        indexes = [models.Index(fields=["path"], name="folder_path")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_top(self) -> bool:
        return self.parent_id is None


class FolderUserObjectPermission(UserObjectPermissionBase):
    """A folder grant (view_folder / operate_folder) with a direct FK, as guardian advises."""

    content_object = models.ForeignKey(Folder, on_delete=models.CASCADE)


class FolderGroupObjectPermission(GroupObjectPermissionBase):
    """A folder grant to a group; camfleet grants to people, guardian needs the table to exist."""

    content_object = models.ForeignKey(Folder, on_delete=models.CASCADE)


class Invitation(models.Model):
    """An e-mailed, single-use offer to join an organization with a role and folders."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    class EmailStatus(models.TextChoices):
        QUEUED = "queued", _("On its way")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    folders = models.ManyToManyField(
        Folder, blank=True, related_name="+", verbose_name=_("folders")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Delivery of the current link's e-mail, written by the worker that sends it; a resend
    # starts over at "queued" with a new link.
    email_status = models.CharField(
        _("e-mail"), max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    email_queued_at = models.DateTimeField(_("e-mail queued at"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    email_error = models.CharField(_("e-mail error"), max_length=500, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(state="pending"),
                name="invitation_one_pending_per_address",
                violation_error_message=_("This address already has a pending invitation."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def effective_state(self) -> str:
        if self.state == self.State.PENDING and self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.state


class AuditEvent(models.Model):
    """One change in an organization: who, what, target, when, from where.

    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE) and chained per organization:
    `hash` covers the previous event's hash and this event's content.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="audit_events"
    )
    sequence = models.PositiveBigIntegerField()
    # Audit rows outlive the people and tokens they name, and may never be updated, so these
    # references carry no database constraint and no ON DELETE action; actor_label keeps the name.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_token = models.ForeignKey(
        "organizations.ApiToken",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=254)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target ID"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=254, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sequence"], name="audit_sequence_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} #{self.sequence} {self.action}"

    @property
    def action_display(self) -> str:
        """The action in words for the activity page; the code itself for an unknown action."""
        from organizations.audit import event_type_label  # audit imports these models

        return event_type_label(self.action)


class ApiToken(models.Model):
    """A member's personal API token for one organization; acts with the member's current role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80, validators=[validate_name_characters])
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField(_("expires on"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
