"""The Zoom webhook endpoint: verify, answer at once, do the work in a task."""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom import webhooks
from virtualmeeting_zoom.tasks import HANDLED_EVENTS, zoom_webhook_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request):
    config = ProviderConfig.objects.filter(provider="zoom").first()
    secret = config.webhook_secret if config else ""
    if not secret:
        return HttpResponse("Webhooks are not set up on this site.", status=404, content_type="text/plain")
    body = request.body
    if not webhooks.verify(
        secret=secret,
        timestamp=request.headers.get("x-zm-request-timestamp", ""),
        signature=request.headers.get("x-zm-signature", ""),
        body=body,
    ):
        return HttpResponse("Invalid signature.", status=401, content_type="text/plain")
    event = webhooks.parse_event(body)
    if event is None:
        return HttpResponse("Not a JSON event.", status=400, content_type="text/plain")
    name = event.get("event")
    if not isinstance(name, str):
        return HttpResponse("No event name.", status=400, content_type="text/plain")
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    if name == "endpoint.url_validation":
        plain_token = payload.get("plainToken")
        if not webhooks.is_plain_token(plain_token):
            return HttpResponse("No plainToken.", status=400, content_type="text/plain")
        return JsonResponse(webhooks.url_validation_answer(secret, plain_token))
    if name in HANDLED_EVENTS:
        try:
            zoom_webhook_event.delay(name, payload, event.get("event_ts"))
        except Exception:  # broker down: let Zoom deliver again later (it retries after 5, 20, 60 minutes)
            logger.exception("Could not queue Zoom webhook event %s", name)
            return HttpResponse("Try again later.", status=503, content_type="text/plain")
    return HttpResponse(status=204)
