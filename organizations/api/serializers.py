"""Shapes of the organization API: read serializers for rows, input serializers for actions."""

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import StrictCharField, StrictUUIDField
from organizations import access
from organizations.models import ApiToken, AuditEvent, Folder, Invitation, Membership, Organization
from organizations.roles import Role
from organizations.services import MAX_FIRST_FOLDERS, MAX_INVITATION_EMAILS

# The choices of an invitation's role, presented from access (settings name this enum).
INVITABLE_ROLES = [(role.value, role.label) for role in access.INVITATION_ROLES]


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The caller's role in this organization.")

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "notes",
            "allow_elevated_invitations",
            "requires_mfa",
            "created_at",
            "role",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, organization: Organization) -> str | None:
        roles = self.context.get("roles", {})
        return roles.get(organization.pk)


class OrganizationListItemSerializer(OrganizationSerializer):
    """One of the caller's organizations in the list.

    While the session lacks the second factor the organization requires (`mfa_required`),
    the item shows no more than the detail would (403 `mfa_required`): id, name, role and
    `requires_mfa`; notes, settings and dates are null.
    """

    notes = serializers.CharField(read_only=True, allow_null=True)
    allow_elevated_invitations = serializers.BooleanField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    mfa_required = serializers.SerializerMethodField(
        help_text="True when this session must pass a second factor before it may read the "
        "organization; its notes, settings and dates are then null."
    )

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "mfa_required"]
        read_only_fields = fields

    HIDDEN_WITHOUT_MFA = ("notes", "allow_elevated_invitations", "created_at")

    def get_mfa_required(self, organization: Organization) -> bool:
        return organization.pk in self.context.get("mfa_missing", ())

    def to_representation(self, instance: Organization) -> dict:
        body = super().to_representation(instance)
        if body["mfa_required"]:
            body.update(dict.fromkeys(self.HIDDEN_WITHOUT_MFA))
        return body


class OrganizationCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    folder_names = serializers.ListField(
        child=StrictCharField(max_length=120),
        required=False,
        default=list,
        max_length=MAX_FIRST_FOLDERS,
        help_text="First folders, created under the top folder.",
    )

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Enter a name."))
        return value.strip()


class OrganizationUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True)
    allow_elevated_invitations = serializers.BooleanField(required=False)
    requires_mfa = serializers.BooleanField(required=False)

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Enter a name."))
        return value.strip()


class OrganizationArchiveSerializer(serializers.Serializer):
    confirmation_id = StrictCharField(
        max_length=64, help_text="The organization ID, pasted exactly."
    )
    understood = serializers.BooleanField(help_text='"I understand the risks" — must be true.')


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)


class MemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    folder_ids = serializers.SerializerMethodField(
        help_text="Folders granted directly (operators and viewers); their subtrees are included."
    )

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "folder_ids", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_folder_ids(self, member: Membership) -> list[str]:
        return [str(folder.pk) for folder in getattr(member, "granted_folders", [])]


class MemberChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    folder_ids = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        max_length=1000,
        help_text="The folders for an operator or viewer; leave out to keep the current ones.",
    )


class InvitationSerializer(serializers.ModelSerializer):
    folder_ids = serializers.SerializerMethodField()
    state = serializers.CharField(source="effective_state", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "folder_ids",
            "state",
            "created_at",
            "expires_at",
            "email_status",
            "email_error",
            "email_sent_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "email_status": {
                "help_text": "Delivery of the current link: queued (on its way, perhaps being "
                "retried), sent, or failed (send it again with .../resend/)."
            },
            "email_error": {"help_text": "The mail server's last refusal, if any."},
        }

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_folder_ids(self, invitation: Invitation) -> list[str]:
        return [str(folder.pk) for folder in invitation.folders.all()]


class InvitationCreateSerializer(serializers.Serializer):
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        min_length=1,
        max_length=MAX_INVITATION_EMAILS,
    )
    role = serializers.ChoiceField(choices=INVITABLE_ROLES, default=Role.VIEWER)
    folder_ids = serializers.ListField(
        child=StrictUUIDField(), required=False, default=list, max_length=1000
    )

    def validate_emails(self, value: list[str]) -> list[str]:
        unique: list[str] = []
        for email in value:
            if email.lower() not in unique:
                unique.append(email.lower())
        return unique


class FolderSerializer(serializers.ModelSerializer):
    parent_id = serializers.SerializerMethodField(
        help_text="The parent folder; null for the top folder and for a folder whose parent "
        "the caller cannot see."
    )

    class Meta:
        model = Folder
        fields = ["id", "parent_id", "name", "time_zone", "depth", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_parent_id(self, folder: Folder) -> str | None:
        # An operator's or viewer's granted folder has a parent that does not exist for them:
        # not even its id is shown. The views put the visible parents in the context.
        visible_parent_ids = self.context.get("visible_parent_ids")
        if folder.parent_id is None:
            return None
        if visible_parent_ids is not None and folder.parent_id not in visible_parent_ids:
            return None
        return str(folder.parent_id)


class FolderCreateSerializer(serializers.Serializer):
    parent_id = StrictUUIDField()
    name = StrictCharField(max_length=120)
    time_zone = StrictCharField(max_length=64, required=False, allow_blank=True, default="")


class FolderUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    time_zone = StrictCharField(max_length=64, required=False, allow_blank=True)


class FolderMoveSerializer(serializers.Serializer):
    new_parent_id = StrictUUIDField()


class FolderDeleteSerializer(serializers.Serializer):
    understood = serializers.BooleanField(help_text='"I understand the risks" — must be true.')


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)
    target = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["sequence", "created_at", "actor", "action", "target", "data", "client_address"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "id": {"type": "string"},
                "label": {"type": "string"},
            },
        }
    )
    def get_target(self, event: AuditEvent) -> dict:
        return {"type": event.target_type, "id": event.target_id, "label": event.target_label}


class AuditEventFilterSerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=254)
    action = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        # Read the query as plain values: "?until=" is not a date (as an HTML form, DRF would
        # take an empty value for "not given" and quietly drop the filter).
        if isinstance(data, QueryDict):
            data = data.dict()
        return super().to_internal_value(data)


class ApiTokenSerializer(serializers.ModelSerializer):
    member_id = serializers.UUIDField(source="membership_id", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "member_id",
            "created_at",
            "expires_on",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.SerializerMethodField(help_text="The secret; shown only in this answer.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, token: ApiToken) -> str:
        return self.context["raw_token"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=80)
    expires_on = serializers.DateField()
