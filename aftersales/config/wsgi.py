import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
application = get_wsgi_application()
# The URL patterns, and with them every view, serializer and form module, are imported
# now, while a server process starts, rather than in the first request it answers (which
# waited about a second for them: docs/performance.md).
URL_PATTERNS = get_resolver().url_patterns
