from django.apps import AppConfig


class CamfleetConfig(AppConfig):
    """The project itself, installed only for its commands (seed_demo); it has no models."""

    name = "config"
    label = "camfleet"
    verbose_name = "camfleet"
