from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "organizations"

    def ready(self) -> None:
        from organizations import audit

        audit.register_event_types(audit.ORGANIZATION_EVENT_TYPES)
