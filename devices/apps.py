from django.apps import AppConfig


class DevicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "devices"

    def ready(self) -> None:
        from devices import accounts, control, onboarding, services
        from devices.servers import services as server_services
        from organizations import audit

        audit.register_event_types(services.DEVICE_EVENT_TYPES)
        audit.register_event_types(control.CONTROL_EVENT_TYPES)
        audit.register_event_types(onboarding.ONBOARDING_EVENT_TYPES)
        audit.register_event_types(accounts.ACCOUNT_EVENT_TYPES)
        audit.register_event_types(server_services.SERVER_EVENT_TYPES)
