from django.apps import AppConfig


class UpgradesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "upgrades"

    def ready(self) -> None:
        from devices import extensions
        from organizations import audit
        from upgrades.advice import RecommendationAdvisor
        from upgrades.services.jobs import JOB_EVENT_TYPES
        from upgrades.services.schedules import UPGRADE_EVENT_TYPES

        audit.register_event_types(UPGRADE_EVENT_TYPES)
        audit.register_event_types(JOB_EVENT_TYPES)
        extensions.register_upgrade_advisor(RecommendationAdvisor())
