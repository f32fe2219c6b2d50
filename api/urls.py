"""The JSON API under /api/v1/ (django-ninja), OpenAPI docs at /api/v1/docs; wiring only.

Every error answers JSON with a stable `code` and a Chinese `message`, so the app can show
the message as it is and branch on the code.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from .analysis import router as analysis_router
from .auth import token_or_session
from .cases import router as cases_router
from .errors import CSRF_FAILED, ApiRefusal
from .evaluations import router as evaluations_router
from .members import router as members_router
from .parser import TextJsonParser
from .routes import router

api = NinjaAPI(
    title=gettext_lazy("工会会员网上评议 API"),
    version="1.0",
    description=gettext_lazy(
        "供移动端与小程序调用的接口。错误以 JSON 返回，带稳定的 code 与中文 message。"
    ),
    urls_namespace="api",
    auth=token_or_session,
    parser=TextJsonParser(),
)
api.add_router("/", router)
api.add_router("/", members_router)
api.add_router("/", evaluations_router)
api.add_router("/", cases_router)
api.add_router("/", analysis_router)


def error(request, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(Http404)
def not_found(request, exc):
    message = str(exc) if str(exc) and str(exc) != "Not Found" else _("找不到请求的资源")
    return error(request, 404, "not_found", message)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return error(request, 401, "not_authenticated", _("请先登录"))


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return error(request, 403, "forbidden", str(exc) or _("没有权限执行此操作"))


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return error(request, 422, "invalid", _("请求参数有误，请检查后重试"), errors=exc.errors)


@api.exception_handler(ApiRefusal)
def refused(request, exc):
    return error(request, exc.status, exc.code, exc.message, **exc.extra)


@api.exception_handler(HttpError)
def http_error(request, exc):
    # django-ninja answers a failed CSRF check of a session POST with HttpError(403).
    if exc.status_code == 403 and "csrf" in str(exc).lower():
        return error(request, 403, "csrf_failed", str(CSRF_FAILED))
    # django-ninja's word for a body that is not JSON, or not text (api.parser).
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return error(request, 400, "invalid_body", _("请求内容不是有效的 JSON 文本，请检查后重试"))
    return error(request, exc.status_code, "http_error", str(exc))
