"""The ASGI application; refuses to start on development settings."""

from django.core.asgi import get_asgi_application

from config.entry_points import refuse_unsafe_settings

refuse_unsafe_settings()
application = get_asgi_application()
