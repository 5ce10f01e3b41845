"""The URL WeChat calls back (the official account's server configuration): ``GET`` to
verify the server (echo ``echostr`` when the signature is ours), ``POST`` with the event
pushes; ``TEMPLATESENDJOBFINISH`` records the delivery status of a template message."""

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from aftersales.core.wechat import delivery_event, signature_valid


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_push(request):
    query = request.GET
    if not signature_valid(
        query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
    ):
        return HttpResponseForbidden("bad signature")
    if request.method == "GET":
        return HttpResponse(query.get("echostr", ""), content_type="text/plain")
    delivery_event(request.body[:65536])
    # WeChat expects "success" (or an empty body) and otherwise retries three times
    return HttpResponse("success", content_type="text/plain")
