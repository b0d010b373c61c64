"""The Celery application; configuration comes from Django settings (CELERY_*)."""

from celery import Celery

from config.entry_points import refuse_unsafe_settings

# Worker and beat import this module first (celery -A config); so does every manage.py command.
refuse_unsafe_settings()

app = Celery("camfleet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["devices.servers"])  # camera-station servers keep their own tasks


@app.task(name="camfleet.ping")
def ping() -> str:
    """Answer "pong": lets support and tests check that a worker consumes the broker."""
    return "pong"
