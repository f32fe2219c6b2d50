"""Refusals the API answers as {code, message, …} with an HTTP status."""

from django.utils.translation import gettext_lazy

# A session POST without its CSRF token, whether the route checks it or django-ninja does.
CSRF_FAILED = gettext_lazy("页面已过期，请刷新后重试")


class ApiRefusal(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
