from aftersales.core.audit import audit_channel
from aftersales.core.models import AuditChannel


class AuditChannelMiddleware:
    """Marks every change made during a request as coming from the web UI or the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = AuditChannel.API if request.path.startswith("/api/") else AuditChannel.WEB
        with audit_channel(channel):
            return self.get_response(request)
