"""The JSON API under /api/v1/ (django-ninja), OpenAPI docs at /api/v1/docs; wiring only."""

from ninja import NinjaAPI
from ninja.security import django_auth

from .routes import router

api = NinjaAPI(
    title="工会会员网上评议 API",
    version="1.0",
    description="供移动端与小程序调用的接口。错误以 JSON 返回，带稳定的 code 与中文 message。",
    urls_namespace="api",
    auth=django_auth,
)
api.add_router("/", router)
