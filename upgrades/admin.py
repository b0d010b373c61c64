"""Staff admin for the firmware catalog; adding a release goes through the catalog service.

The add form uploads an image with the SHA-256 Axis publishes for it: the service hashes the
upload and refuses it (nothing stored) when the two differ. Once in the catalog, a release's
version, products and image never change; its date, flag, notes and security fixes may.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import csrf_protect_m
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from upgrades.models import Advisory, FirmwareRelease, ReleaseProduct, UpgradeSchedule
from upgrades.services import ReleaseSpec, SecurityNote, add_release
from upgrades.storage import delete_image


class ReleaseAddForm(forms.ModelForm):
    """Version, products, image and its published SHA-256; checked and stored by the service."""

    track = forms.CharField(
        label=_("track"),
        required=False,
        max_length=8,
        help_text=_("Leave empty: it follows from the version (an LTS line such as 11.11)."),
    )
    product_numbers = forms.CharField(
        label=_("compatible product numbers"),
        max_length=2000,
        help_text=_("Separated by commas or spaces, e.g. P3265-V, M3106-L Mk II."),
    )
    image = forms.FileField(label=_("image file (.bin)"))
    sha256 = forms.CharField(
        label=_("SHA-256 of the image"),
        max_length=64,
        help_text=_("As published with the download; the upload is checked against it."),
    )

    class Meta:
        model = FirmwareRelease
        fields = ["version", "track", "release_date", "recommended", "notes", "fixes"]

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        spec = ReleaseSpec(
            version=data["version"],
            product_numbers=tuple(data["product_numbers"].replace(",", " ").split()),
            release_date=data["release_date"],
            file_name=data["image"].name,
            sha256=data["sha256"],
            track=data.get("track") or "",
            recommended=data["recommended"],
            notes=data.get("notes") or "",
            security_notes=tuple(
                SecurityNote(a.cve_id, a.severity, a.summary) for a in data.get("fixes") or ()
            ),
        )
        try:
            result = add_release(spec=spec, image=data["image"])
        except DomainError as error:
            placed = False
            for name, problems in error.fields.items():
                if name in self.fields:
                    for problem in problems:
                        self.add_error(name, str(problem))
                    placed = True
            if not placed:
                self.add_error(None, str(error.message))
        else:
            self.instance = result.release
        return data

    def _post_clean(self) -> None:
        """The service validated and saved the release; nothing for the model form to add."""


class ReleaseProductInline(admin.TabularInline):
    model = ReleaseProduct
    fields = ["product_number"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(FirmwareRelease)
class FirmwareReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "track", "products_list", "release_date", "recommended"]
    list_filter = ["track", "recommended"]
    search_fields = ["version", "products__product_number", "fixes__cve_id"]
    filter_horizontal = ["fixes"]
    readonly_fields = ["version", "track", "image_name", "image_sha256", "image_size", "created_at"]
    fields = [*readonly_fields, "release_date", "recommended", "notes", "fixes"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("products")

    @admin.display(description=_("products"))
    def products_list(self, release: FirmwareRelease) -> str:
        return ", ".join(release.product_numbers)

    def get_inlines(self, request: HttpRequest, obj=None) -> list:
        return [ReleaseProductInline] if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        if obj is not None:
            return self.fields
        return [
            "version",
            "track",
            "product_numbers",
            "image",
            "sha256",
            "release_date",
            "recommended",
            "notes",
            "fixes",
        ]

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        if obj is None:
            kwargs["form"] = ReleaseAddForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            # Adding: the form's service hashes and stores the image outside any transaction
            # and writes the release in its own (durable) one, so no admin-wide atomic block.
            return self._changeform_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_model(self, request: HttpRequest, obj: FirmwareRelease) -> None:
        name = obj.image_name
        super().delete_model(request, obj)
        # The file goes once the row is surely gone (and never while a rollback could restore it).
        transaction.on_commit(lambda: delete_image(name))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        names = list(queryset.values_list("image_name", flat=True))
        super().delete_queryset(request, queryset)
        transaction.on_commit(lambda: [delete_image(name) for name in names])

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if change:  # new releases were saved by the service in the form's clean()
            obj.save()


@admin.register(Advisory)
class AdvisoryAdmin(admin.ModelAdmin):
    list_display = ["cve_id", "severity", "summary"]
    list_filter = ["severity"]
    search_fields = ["cve_id", "summary"]


@admin.register(UpgradeSchedule)
class UpgradeScheduleAdmin(admin.ModelAdmin):
    """Read-only: organizations set schedules through the audited services."""

    list_display = ["organization", "folder", "device", "mode"]
    list_filter = ["mode"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
