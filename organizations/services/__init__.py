"""Every change to organizations, members, invitations, folders and API tokens.

Entry points are `@transaction.atomic(durable=True)`, take keyword-only arguments with the acting
member (`actor`; or `user` for a person without a membership yet, or support) first, check
`organizations.access`, write one audit event per change in the same transaction, and send e-mail
only after commit. The lock order every service follows is in `organizations.services.locks`.

One module per sub-domain, named like the test files; callers import from this package.
"""

from organizations.services.api_tokens import (
    MAX_TOKEN_DAYS,
    authenticate_api_token,
    create_api_token,
    revoke_api_token,
)
from organizations.services.folders import (
    create_folder,
    delete_folder,
    move_folder,
    rename_folder,
)
from organizations.services.invitations import (
    EMAIL_MAX_LENGTH,
    INVITATION_VALIDITY,
    MAX_INVITATION_EMAILS,
    accept_invitation,
    deliver_invitation_email,
    invite_members,
    resend_invitation,
    revoke_invitation,
)
from organizations.services.members import RemovalResult, change_member, remove_members
from organizations.services.organizations import (
    MAX_FIRST_FOLDERS,
    RestoreSummary,
    archive_organization,
    create_organization,
    preview_restore,
    restore_organization,
    update_organization,
    update_security_settings,
)

__all__ = [
    "EMAIL_MAX_LENGTH",
    "INVITATION_VALIDITY",
    "MAX_FIRST_FOLDERS",
    "MAX_INVITATION_EMAILS",
    "MAX_TOKEN_DAYS",
    "RemovalResult",
    "RestoreSummary",
    "accept_invitation",
    "archive_organization",
    "authenticate_api_token",
    "change_member",
    "create_api_token",
    "create_folder",
    "create_organization",
    "delete_folder",
    "deliver_invitation_email",
    "invite_members",
    "move_folder",
    "preview_restore",
    "remove_members",
    "rename_folder",
    "resend_invitation",
    "restore_organization",
    "revoke_api_token",
    "revoke_invitation",
    "update_organization",
    "update_security_settings",
]
