"""Organization pages: setup assistant, settings, users and invitations, folders, activity.

Every view under /o/<organization_id>/ goes through `tenancy.organization_view`, reads through
selectors and writes through services; refusals come back as domain errors.
"""

import csv
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from common.errors import Conflict, DomainError
from common.forms import apply_domain_error, form_status
from common.http import client_address
from common.spreadsheet import Echo, safe_cell
from organizations import access, audit, selectors, services
from organizations.audit_changes import FolderNames, describe_changes, referenced_folder_ids
from organizations.forms import (
    ApiTokenCreateForm,
    ArchiveForm,
    AuditFilterForm,
    FolderDeleteForm,
    FolderMoveForm,
    FolderNameForm,
    InvitationSignUpForm,
    InviteForm,
    MemberChangeForm,
    MemberSearchForm,
    MemberSelectionForm,
    OrganizationCreateForm,
    OrganizationGeneralForm,
    SecuritySettingsForm,
)
from organizations.models import AuditEvent
from organizations.roles import Action
from organizations.tenancy import organization_view

AUDIT_PAGE_SIZE = 50


def _posted(request: HttpRequest):
    """Return the POST data on a POST (even when empty, so the form is bound), else None."""
    return request.POST if request.method == "POST" else None


# --- Organizations ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    """The setup assistant: name, notes and optional first folders; the creator becomes owner."""
    form = OrganizationCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            # Outside /o/<id>/, so no organization_view to attribute the event to an address.
            with audit.request_context(client_address=client_address(request)):
                organization = services.create_organization(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    notes=form.cleaned_data["notes"],
                    folder_names=form.cleaned_data["folder_names"],
                )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, _("%(name)s is ready. You are its owner.") % {"name": organization.name}
            )
            return redirect("organizations:organization-detail", organization.pk)
    return render(
        request, "organizations/organization_create.html", {"form": form}, status=form_status(form)
    )


@organization_view
def organization_detail(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Overview: the organization, the caller's role, folders and members at a glance."""
    membership = request.membership
    context = {
        "folder_count": selectors.visible_folders(membership).count(),
        "member_count": selectors.members(membership).count(),
        "can_manage_folders": access.can(membership, Action.FOLDER_MANAGE),
        "can_invite": access.can(membership, Action.MEMBER_INVITE),
    }
    return render(request, "organizations/organization_detail.html", context)


@organization_view
@require_http_methods(["GET", "POST"])
def organization_settings(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Settings → General: rename, notes."""
    membership = request.membership
    access.require(membership, Action.ORGANIZATION_CHANGE)
    organization = membership.organization
    form = OrganizationGeneralForm(
        _posted(request), initial={"name": organization.name, "notes": organization.notes}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(
                actor=membership,
                name=form.cleaned_data["name"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The settings are saved."))
            return redirect("organizations:organization-settings", organization.pk)
    return render(
        request,
        "organizations/organization_settings.html",
        {"form": form, "tab": "general"},
        status=form_status(form),
    )


@organization_view
@require_http_methods(["GET", "POST"])
def organization_security(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Settings → Security: invitation role policy and the MFA requirement."""
    membership = request.membership
    access.require(membership, Action.ORGANIZATION_CHANGE)
    organization = membership.organization
    form = SecuritySettingsForm(
        _posted(request),
        initial={
            "allow_elevated_invitations": organization.allow_elevated_invitations,
            "requires_mfa": organization.requires_mfa,
        },
    )
    if not access.can(membership, Action.OWNER_GRANT):
        # The invitation policy is the owners' call; admins see it without changing it.
        form.fields["allow_elevated_invitations"].disabled = True
        form.fields["allow_elevated_invitations"].help_text = _("Only an owner can change this.")
    if not organization.requires_mfa:
        # Say who is affected before they are sent to enrolment, not after.
        count = selectors.members_without_second_factor(membership)
        form.fields["requires_mfa"].help_text = (
            ngettext(
                "Turning this on sends %(count)d member without a second factor to enrolment "
                "before they can enter.",
                "Turning this on sends %(count)d members without a second factor to enrolment "
                "before they can enter.",
                count,
            )
            % {"count": count}
            if count
            else _("Every member already uses a second factor.")
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_security_settings(
                actor=membership,
                allow_elevated_invitations=form.cleaned_data["allow_elevated_invitations"],
                requires_mfa=form.cleaned_data["requires_mfa"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The security settings are saved."))
            return redirect("organizations:organization-security", organization.pk)
    return render(
        request,
        "organizations/organization_security.html",
        {"form": form, "tab": "security"},
        status=form_status(form),
    )


@organization_view
@require_http_methods(["GET", "POST"])
def organization_archive(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Settings → Archive: paste the exact ID and tick the risk box (owners only)."""
    membership = request.membership
    access.require(membership, Action.ORGANIZATION_ARCHIVE)
    organization = membership.organization
    form = ArchiveForm(_posted(request), organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.archive_organization(
                actor=membership,
                confirmation_id=form.cleaned_data["confirmation_id"],
                understood=form.cleaned_data["understood"],
            )
        except DomainError as error:
            apply_domain_error(form, error, "confirmation_id")
        else:
            messages.success(request, _("%(name)s is archived.") % {"name": organization.name})
            return redirect("dashboard")
    context = {
        "form": form,
        "tab": "archive",
        # Devices, and anything else later apps file into folders, in one query per kind.
        "device_count": sum(selectors.count_organization_contents(organization).values()),
    }
    return render(
        request, "organizations/organization_archive.html", context, status=form_status(form)
    )


# --- API tokens ---------------------------------------------------------------------------


@organization_view
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Settings → API tokens: the caller's tokens (all members' for admins); create one."""
    membership = request.membership
    form = ApiTokenCreateForm(_posted(request))
    raw_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw_token = services.create_api_token(
                actor=membership,
                name=form.cleaned_data["name"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Token “%(name)s” is created. Copy it now: it is shown only once.")
                % {"name": token.name},
            )
            form = ApiTokenCreateForm()
    context = {
        "form": form,
        "tab": "tokens",
        "tokens": selectors.api_tokens(membership),
        "raw_token": raw_token,
        "today": timezone.localdate(),
        "show_owner": access.can(membership, Action.TOKEN_MANAGE),
    }
    return render(request, "organizations/token_list.html", context, status=form_status(form))


@organization_view
@require_POST
def token_revoke(request: HttpRequest, organization_id: UUID, token_id: UUID) -> HttpResponse:
    """Revoke one API token; htmx swaps its row, other requests go back to the list."""
    membership = request.membership
    token = services.revoke_api_token(actor=membership, token_id=token_id)
    if request.htmx:
        return render(
            request,
            "organizations/partials/token_row.html",
            {
                "token": token,
                "today": timezone.localdate(),
                "show_owner": access.can(membership, Action.TOKEN_MANAGE),
            },
        )
    messages.success(request, _("Token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("organizations:token-list", organization_id)


# --- Members and invitations --------------------------------------------------------------


@organization_view
def member_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Users: every member with role and folder access; pending invitations for admins."""
    membership = request.membership
    can_change = access.can(membership, Action.MEMBER_CHANGE)
    can_invite = access.can(membership, Action.MEMBER_INVITE)
    search_form = MemberSearchForm(request.GET)
    search = search_form.cleaned_data["q"] if search_form.is_valid() else ""
    context = {
        "search_form": search_form,
        "search": search,
        "members": selectors.members(membership, search=search),
        "invitations": selectors.pending_invitations(membership) if can_invite else [],
        "can_change": can_change,
        "can_remove": access.can(membership, Action.MEMBER_REMOVE),
        "can_invite": can_invite,
        "can_grant_owner": access.can(membership, Action.OWNER_GRANT),
    }
    return render(request, "organizations/member_list.html", context)


@organization_view
@require_http_methods(["GET", "POST"])
def invitation_create(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Invite users: several addresses, a role the policy allows, folders for operator/viewer."""
    membership = request.membership
    access.require(membership, Action.MEMBER_INVITE)
    folders = list(selectors.folder_tree(membership))
    form = InviteForm(_posted(request), membership=membership, folders=folders)
    if request.method == "POST" and form.is_valid():
        try:
            invitations = services.invite_members(
                actor=membership,
                emails=form.cleaned_data["emails"],
                role=form.cleaned_data["role"],
                folder_ids=[UUID(value) for value in form.cleaned_data["folders"]],
                request=request,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Invitations created for: %(addresses)s. The e-mails are on their way; one "
                    "that cannot be delivered shows below under Pending invitations, with Resend."
                )
                % {"addresses": ", ".join(invitation.email for invitation in invitations)},
            )
            return redirect("organizations:member-list", organization_id)
    return render(
        request,
        "organizations/invitation_create.html",
        {"form": form},
        status=form_status(form),
    )


@organization_view
@require_POST
def invitation_revoke(
    request: HttpRequest, organization_id: UUID, invitation_id: UUID
) -> HttpResponse:
    """Revoke a pending invitation; its link then explains itself and grants nothing."""
    invitation = services.revoke_invitation(actor=request.membership, invitation_id=invitation_id)
    if request.htmx:
        # The row stays, marked revoked: the person sees what happened where they clicked.
        return render(
            request, "organizations/partials/invitation_row.html", {"invitation": invitation}
        )
    messages.success(
        request, _("The invitation for %(email)s is revoked.") % {"email": invitation.email}
    )
    return redirect("organizations:member-list", organization_id)


@organization_view
@require_POST
def invitation_resend(
    request: HttpRequest, organization_id: UUID, invitation_id: UUID
) -> HttpResponse:
    """Send a pending invitation again with a new link; the old link stops working."""
    membership = request.membership
    if request.htmx:
        # A refusal (too soon, no longer allowed) comes back as an alert above the page.
        services.resend_invitation(actor=membership, invitation_id=invitation_id, request=request)
        invitation = selectors.get_pending_invitation(membership, invitation_id)
        return render(
            request, "organizations/partials/invitation_row.html", {"invitation": invitation}
        )
    try:
        invitation = services.resend_invitation(
            actor=membership, invitation_id=invitation_id, request=request
        )
    except Conflict as error:  # too soon, or no longer pending: say so on the Users page
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The invitation for %(email)s is on its way again, with a new link.")
            % {"email": invitation.email},
        )
    return redirect("organizations:member-list", organization_id)


@organization_view
@require_http_methods(["GET", "POST"])
def member_change(request: HttpRequest, organization_id: UUID, member_id: UUID) -> HttpResponse:
    """Roles and access: change a member's role and folder grants, effective immediately."""
    membership = request.membership
    member = selectors.get_member(membership, member_id)
    access.require(membership, Action.MEMBER_CHANGE, member)
    folders = list(selectors.folder_tree(membership))
    initial = {
        "role": member.role,
        "folders": [str(folder.pk) for folder in getattr(member, "granted_folders", [])],
    }
    form = MemberChangeForm(
        _posted(request), initial=initial, membership=membership, folders=folders
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_member(
                actor=membership,
                member_id=member.pk,
                role=form.cleaned_data["role"],
                folder_ids=[UUID(value) for value in form.cleaned_data["folders"]],
            )
        except DomainError as error:
            apply_domain_error(form, error, "role")
        else:
            messages.success(
                request, _("Role and access of %(name)s are saved.") % {"name": member.user}
            )
            return redirect("organizations:member-list", organization_id)
    # htmx loads the form into the Users page's dialog; a plain request gets a whole page.
    template = (
        "organizations/partials/member_change_dialog.html"
        if request.htmx and request.method == "GET"
        else "organizations/member_change.html"
    )
    return render(request, template, {"form": form, "member": member}, status=form_status(form))


def _report_removal(request: HttpRequest, result) -> None:
    removed = [str(member.user) for member in result.removed]
    if removed:
        messages.success(request, _("Removed: %(names)s.") % {"names": ", ".join(removed)})
    for member, reason in result.refused:
        messages.error(
            request,
            _("Not removed: %(name)s — %(reason)s")
            % {"name": getattr(member, "user", member), "reason": reason},
        )


@organization_view
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, organization_id: UUID, member_id: UUID) -> HttpResponse:
    """Remove one member after a confirmation."""
    membership = request.membership
    member = selectors.get_member(membership, member_id)
    access.require(membership, Action.MEMBER_REMOVE, member)
    if request.method == "POST":
        result = services.remove_members(actor=membership, member_ids=[member.pk])
        _report_removal(request, result)
        if member.pk == membership.pk and result.removed:
            return redirect("dashboard")
        return redirect("organizations:member-list", organization_id)
    return render(request, "organizations/member_remove.html", {"selected": [member]})


@organization_view
@require_http_methods(["GET", "POST"])
def member_bulk_remove(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Remove several selected members with one confirmation; report what was and wasn't done."""
    membership = request.membership
    access.require(membership, Action.MEMBER_REMOVE)
    members = list(selectors.members(membership))
    data = request.POST if request.method == "POST" else request.GET
    form = MemberSelectionForm(data, members=members)
    if not form.is_valid():
        messages.error(request, _("Select at least one member to remove."))
        return redirect("organizations:member-list", organization_id)
    chosen = set(form.cleaned_data["member"])
    selected = [member for member in members if str(member.pk) in chosen]
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        result = services.remove_members(
            actor=membership, member_ids=[member.pk for member in selected]
        )
        _report_removal(request, result)
        if any(member.pk == membership.pk for member in result.removed):
            return redirect("dashboard")
        return redirect("organizations:member-list", organization_id)
    return render(request, "organizations/member_remove.html", {"selected": selected})


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from an invitation e-mail: create an account and join, sign in, or accept.

    An invitee without an account creates it here and joins in the same step; the link proves
    the address, so the new account is verified at once. A link for another address is refused
    with an explanation; the link of an invitation the person already accepted leads in.
    """
    try:
        invitation = selectors.get_pending_invitation_by_token(token)
    except DomainError as error:
        membership = selectors.membership_from_invitation(request.user, token)
        if membership is not None:
            return redirect("organizations:organization-detail", membership.organization_id)
        return render(
            request,
            "organizations/invitation_invalid.html",
            {"reason": str(error.message)},
            status=error.http_status,
        )
    organization = invitation.organization
    context: dict = {"invitation": invitation, "organization": organization}
    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            context["wrong_account"] = True
            return render(request, "organizations/invitation_accept.html", context, status=403)
        if request.method == "POST":
            return _accept(request, token)
        return render(request, "organizations/invitation_accept.html", context)

    form = InvitationSignUpForm(_posted(request), email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            # Opening the link proves the address: no separate verification e-mail needed.
            user = account_services.sign_up(
                email=invitation.email,
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
                language=request.LANGUAGE_CODE,
                is_email_verified=True,
                request=request,
            )
        except DomainError as error:
            if error.code == "email_taken":
                form.add_error(
                    None, _("You already have an account with this address. Sign in to accept.")
                )
            else:
                apply_domain_error(form, error, "password")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # One step: the account exists only to accept this invitation.
            return _accept(request, token)
    context["form"] = form
    context["has_account"] = account_selectors.get_account_by_email(invitation.email) is not None
    return render(
        request, "organizations/invitation_accept.html", context, status=form_status(form)
    )


def _accept(request: HttpRequest, token: str) -> HttpResponse:
    """Accept the invitation as the signed-in person; welcome them in, or say why not."""
    try:
        with audit.request_context(client_address=client_address(request)):
            membership = services.accept_invitation(user=request.user, raw_token=token)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("dashboard")
    messages.success(request, _("Welcome to %(name)s.") % {"name": membership.organization.name})
    return redirect("organizations:organization-detail", membership.organization_id)


# --- Folders ------------------------------------------------------------------------------


@organization_view
def folder_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """The folder tree as far as the caller may see it."""
    membership = request.membership
    can_manage = access.can(membership, Action.FOLDER_MANAGE)
    context = {
        "folders": selectors.folder_tree_rows(membership),
        "can_manage": can_manage,
        "folders_url": reverse("organizations:folder-list", args=[organization_id]),
        # Delete is greyed out, with the reason, on folders that hold devices.
        "holding": selectors.folders_holding_contents(membership) if can_manage else set(),
    }
    return render(request, "organizations/folder_list.html", context)


@organization_view
def folder_detail(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """One folder and its subfolders; 404 outside the caller's folders."""
    membership = request.membership
    folder = selectors.get_visible_folder(membership, folder_id)
    tree = selectors.folder_tree(membership)
    this = next((other for other in tree if other.pk == folder.pk), None)
    base_level = this.level + 1 if this is not None else 0
    subtree = [
        other for other in tree if other.path.startswith(folder.path) and other.pk != folder.pk
    ]
    for child in subtree:
        # Indent below this folder, not by the depth in the whole tree.
        child.indent = max(child.level - base_level, 0)
    can_manage = access.can(membership, Action.FOLDER_MANAGE)
    # Delete is greyed out in the "…" menu, with the reason, when it would be refused.
    refusal = selectors.folder_deletion_refusal(folder) if can_manage and folder.parent_id else None
    context = {
        "folder": folder,
        "effective_time_zone": this.effective_time_zone if this is not None else folder.time_zone,
        "subtree": subtree,
        "can_manage": can_manage,
        "delete_refusal": str(refusal.message) if refusal else "",
    }
    return render(request, "organizations/folder_detail.html", context)


@organization_view
@require_http_methods(["GET", "POST"])
def folder_create(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """Create a folder under this one."""
    membership = request.membership
    parent = selectors.get_visible_folder(membership, folder_id)
    access.require(membership, Action.FOLDER_MANAGE, parent)
    form = FolderNameForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            folder = services.create_folder(
                actor=membership,
                parent_id=parent.pk,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except DomainError as error:
            apply_domain_error(form, error, "name")
        else:
            messages.success(request, _("Folder “%(name)s” is created.") % {"name": folder.name})
            return redirect("organizations:folder-list", organization_id)
    return render(
        request,
        "organizations/folder_form.html",
        {"form": form, "folder": parent, "mode": "create"},
        status=form_status(form),
    )


@organization_view
@require_http_methods(["GET", "POST"])
def folder_rename(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """Rename a folder or change its time zone."""
    membership = request.membership
    folder = selectors.get_visible_folder(membership, folder_id)
    access.require(membership, Action.FOLDER_MANAGE, folder)
    form = FolderNameForm(
        _posted(request), initial={"name": folder.name, "time_zone": folder.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            folder = services.rename_folder(
                actor=membership,
                folder_id=folder.pk,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except DomainError as error:
            apply_domain_error(form, error, "name")
        else:
            messages.success(request, _("Folder “%(name)s” is saved.") % {"name": folder.name})
            return redirect("organizations:folder-list", organization_id)
    return render(
        request,
        "organizations/folder_form.html",
        {"form": form, "folder": folder, "mode": "rename"},
        status=form_status(form),
    )


@organization_view
@require_http_methods(["GET", "POST"])
def folder_move(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """Move to…: any folder outside the folder's own subtree."""
    membership = request.membership
    folder = selectors.get_visible_folder(membership, folder_id)
    access.require(membership, Action.FOLDER_MANAGE, folder)
    folders = list(selectors.folder_tree(membership))
    form = FolderMoveForm(_posted(request), folder=folder, folders=folders)
    if request.method == "POST" and form.is_valid():
        try:
            folder = services.move_folder(
                actor=membership,
                folder_id=folder.pk,
                new_parent_id=UUID(form.cleaned_data["new_parent"]),
            )
        except DomainError as error:
            apply_domain_error(form, error, "new_parent")
        else:
            messages.success(request, _("Folder “%(name)s” is moved.") % {"name": folder.name})
            return redirect("organizations:folder-list", organization_id)
    return render(
        request,
        "organizations/folder_move.html",
        {"form": form, "folder": folder},
        status=form_status(form),
    )


@organization_view
@require_http_methods(["GET", "POST"])
def folder_delete(request: HttpRequest, organization_id: UUID, folder_id: UUID) -> HttpResponse:
    """Delete an empty folder after the risk box is ticked."""
    membership = request.membership
    folder = selectors.get_visible_folder(membership, folder_id)
    access.require(membership, Action.FOLDER_MANAGE, folder)
    form = FolderDeleteForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_folder(
                actor=membership,
                folder_id=folder.pk,
                understood=form.cleaned_data["understood"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Folder “%(name)s” is deleted.") % {"name": folder.name})
            return redirect("organizations:folder-list", organization_id)
    # Say up front what would refuse the deletion, instead of after the risk box is ticked.
    refusal = None
    if not form.is_bound and folder.parent_id is not None:
        refusal = selectors.folder_deletion_refusal(folder)
    return render(
        request,
        "organizations/folder_delete.html",
        {"form": form, "folder": folder, "refusal": str(refusal.message) if refusal else ""},
        status=form_status(form),
    )


# --- Activity --------------------------------------------------------------------------------


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered_audit_events(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    """Return the activity filter form and the events it selects (none when it is invalid)."""
    membership = request.membership
    access.require(membership, Action.AUDIT_VIEW)
    # Names and addresses only: the "Who" list needs no folder grants.
    members = list(selectors.members(membership).prefetch_related(None))
    # The types this organization's log holds: a type that never happened filters to nothing.
    form = AuditFilterForm(
        request.GET or None, members=members, actions=selectors.audit_event_types(membership)
    )
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters["actor"] = data["actor"] or None
        filters["action"] = data["action"] or None
        if data["since"]:
            filters["since"] = _start_of_day(data["since"])
        if data["until"]:
            filters["until"] = _start_of_day(data["until"] + timedelta(days=1))
    events = selectors.audit_events(membership, **filters)
    return form, events.none() if form.errors else events


def _describe_audit_events(membership, events: list[AuditEvent]) -> list[AuditEvent]:
    """Attach `changes` (what each event changed, in words) to the events; one query."""
    names = FolderNames(
        visible=selectors.visible_folder_names(membership, referenced_folder_ids(events)),
        sees_all=access.sees_all_folders(membership),
    )
    for event in events:
        event.changes = describe_changes(event, names)
    return events


@organization_view
def audit_event_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Activity: the organization's audit events, filtered by who, what and when (admin+)."""
    form, events = _filtered_audit_events(request)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    _describe_audit_events(request.membership, list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "organizations/audit_event_list.html", context)


AUDIT_EXPORT_CHUNK = 500


@organization_view
def audit_event_export(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """The filtered activity as a CSV file, streamed; an invalid filter goes back to the page."""
    membership = request.membership
    form, events = _filtered_audit_events(request)
    if form.errors:
        url = reverse("organizations:audit-event-list", args=[organization_id])
        return redirect(f"{url}?{request.GET.urlencode()}")
    # The answer streams after the view returns: keep the person's language and time zone.
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def rows() -> Iterator[str]:
        writer = csv.writer(Echo())
        with translation.override(language), timezone.override(zone):
            yield writer.writerow(
                [
                    _("When"),
                    _("Who"),
                    _("What"),
                    _("Event type"),
                    _("Target"),
                    _("Changes"),
                    _("Client address"),
                ]
            )
            chunk: list[AuditEvent] = []
            for event in events.iterator(chunk_size=AUDIT_EXPORT_CHUNK):
                chunk.append(event)
                if len(chunk) == AUDIT_EXPORT_CHUNK:
                    yield from _csv_rows(writer, membership, chunk)
                    chunk = []
            yield from _csv_rows(writer, membership, chunk)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"activity-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_rows(writer, membership, events: list[AuditEvent]) -> Iterator[str]:
    for event in _describe_audit_events(membership, events):
        yield writer.writerow(
            safe_cell(value)
            for value in (
                timezone.localtime(event.created_at).isoformat(timespec="seconds"),
                event.actor_label,
                event.action_display,
                event.action,
                event.target_label,
                "; ".join(map(str, event.changes)),
                event.client_address,
            )
        )
