"""The WSGI application (gunicorn config.wsgi); refuses to start on development settings."""

from django.core.wsgi import get_wsgi_application

from config.entry_points import refuse_unsafe_settings

refuse_unsafe_settings()
application = get_wsgi_application()
