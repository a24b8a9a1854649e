"""django-csp's middleware, with the site's policy built once per process.

django-csp 4 builds the Content-Security-Policy header from settings on every response (about 0.2 ms, as much as a
minimal view). The policy here is the same for every response unless a view changes it (csp_update, csp_replace,
csp_exempt and the like), a page asks for a nonce, or settings exclude some URLs: those responses go through
django-csp as before; every other one gets the header built once.
"""

from functools import cache

from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

HEADER = "Content-Security-Policy"
HEADER_REPORT_ONLY = "Content-Security-Policy-Report-Only"
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@cache
def _site_policy() -> tuple[str, str] | None:
    """(header, report-only header) of the settings' policies; None when settings exclude some URLs."""
    for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        if (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES"):
            return None
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed, dispatch_uid="lms.csp.setting_changed")
def _settings_changed(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _site_policy.cache_clear()


class SitePolicyCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        policy = _site_policy()
        if (
            policy is None
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        csp, csp_ro = policy
        if csp and HEADER not in response:
            response[HEADER] = csp
        if csp_ro and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = csp_ro
        # As django-csp: a nonce asked for once the header is written is an error, not a silent gap in the policy.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
