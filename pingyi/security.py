"""Security headers Django does not set itself: the Content-Security-Policy and Permissions-Policy.

A middleware of a few lines rather than django-csp: the policy is one fixed string (no nonces,
no per-view changes), since every page loads its scripts from the app's static files and none
has an inline script or event handler; django-csp would add a dependency and a settings
vocabulary for that one header. Django's own SecurityMiddleware and XFrameOptionsMiddleware set
nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, X-Frame-Options and HSTS.
"""

from django.conf import settings


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view that sets its own policy (none does today) keeps it.
        if settings.PINGYI_CONTENT_SECURITY_POLICY:
            response.headers.setdefault(
                "Content-Security-Policy", settings.PINGYI_CONTENT_SECURITY_POLICY
            )
        if settings.PINGYI_PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PINGYI_PERMISSIONS_POLICY)
        return response
