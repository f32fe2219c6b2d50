"""Member pages (H5): registration, login by SMS code, 我的 and help.

工作评议 and 我的评议记录 are evaluations/h5_views.py, listed in members/urls_h5.py.

Thin views: the rules are in members.registration, members.otp and members.providers. Forms
post normally (获取验证码 is a submit button), so every page works without JavaScript.
"""

import secrets
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import Value
from django.db.models.functions import Concat
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.throttle import client_address
from evaluations.selectors import open_to_do
from orgs.selectors import ancestors_of

from . import promotion, providers, registration
from .forms_h5 import LoginForm, RegisterForm
from .models import AuditAction, AuditEvent, CodePurpose, ProviderIdentity
from .registration import AUTH_ERRORS, LOGIN_BACKEND, member_of

_PROVIDER_STATE = "members_provider_state"


def member_view(view):
    """Pages of a logged-in member: anonymous visitors log in first; admins are told where they
    are. The view receives the member; nothing in the URL names whose page it is."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("members:login"))
        member = member_of(request.user)
        if member is None:
            return render(request, "members/h5/member_only.html", status=403)
        return view(request, member, *args, **kwargs)

    return never_cache(wrapped)


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("members:home")


def _refuse(form, error) -> None:
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(error))


def _send(request, form, purpose: str) -> dict:
    """The 获取验证码 button: send a code, or say why not. Returns the page's extra context."""
    if not form.is_valid():
        return {}
    try:
        issued = registration.send_code(
            phone=form.cleaned_data["phone"], purpose=purpose, address=client_address(request)
        )
    except AUTH_ERRORS as error:
        _refuse(form, error)
        wait = getattr(error, "retry_after", 0)
        # A countdown for a short wait only; an hour or a day is said in the message.
        return {"resend_after": wait if wait <= 300 else 0, "refusal": error}
    return {
        "sent_to": issued.phone_masked,
        "minutes": settings.PINGYI_OTP_TTL_SECONDS // 60,
        "resend_after": issued.resend_after,
    }


def _hints(error, form) -> dict:
    """Where a refused member can go next: 信息更正 or the login page."""
    if isinstance(error, registration.NotOnRoster | registration.NameMismatch):
        query = {"kind": error.correction_kind, "name": form.cleaned_data.get("name", "")}
        return {"correction_url": f"{reverse('members:correction')}?{urlencode(query)}"}
    if isinstance(error, registration.AlreadyRegistered | registration.PhoneTaken):
        return {"login_hint": True}
    return {}


@sensitive_post_parameters("name", "id_number", "phone", "code")
@never_cache
def register(request):
    if member_of(request.user) is not None:
        return redirect("members:home")
    context: dict = {}
    invited_by = promotion.invitation(request.session)
    if request.method == "POST":
        sending = "send_code" in request.POST
        form = RegisterForm(request.POST, sending=sending)
        if sending:
            context.update(_send(request, form, CodePurpose.REGISTER))
            context.update(_hints(context.get("refusal"), form))
        elif form.is_valid():
            try:
                member = registration.register_member(
                    name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"],
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    address=client_address(request),
                )
            except AUTH_ERRORS as error:
                # Hints first: refusing the name field drops it from cleaned_data.
                context.update(_hints(error, form))
                _refuse(form, error)
            else:
                login(request, member.user, backend=LOGIN_BACKEND)
                messages.success(request, _("注册成功，欢迎您，%(name)s！") % {"name": member.name})
                _after_invited_registration(request, member, invited_by)
                return redirect("members:home")
    else:
        form = RegisterForm()
    context["form"] = form
    context["invited_by"] = invited_by
    return render(request, "members/h5/register.html", context)


def _after_invited_registration(request, member, invited_by) -> None:
    """A registration through a unit's link (members.promotion): note the unit in the audit,
    and say plainly when the roster puts the member in another union; nothing is changed."""
    if invited_by is None:
        return
    org = {"org": invited_by.name, "code": invited_by.code}
    through = _("（经%(org)s推广链接 %(code)s）") % org
    AuditEvent.objects.filter(member=member, action=AuditAction.REGISTERED).update(
        note=Concat("note", Value(through))
    )
    promotion.forget_invitation(request.session)
    if not invited_by.contains(member.org):
        messages.info(
            request,
            _(
                "名册显示您是“%(union)s”的会员，您的评议计入“%(union)s”，而不是邀请单位"
                "“%(invited)s”。如果所在工会不对，可以在“我的”中办理“我要转会”。"
            )
            % {"union": member.org.name, "invited": invited_by.name},
        )


@sensitive_post_parameters("phone", "code")
@never_cache
def login_view(request):
    if member_of(request.user) is not None:
        return redirect(_safe_next(request))
    context: dict = {"next": _safe_next(request), "providers": providers.enabled_providers()}
    if request.method == "POST":
        sending = "send_code" in request.POST
        form = LoginForm(request.POST, sending=sending)
        if sending:
            context.update(_send(request, form, CodePurpose.LOGIN))
        elif form.is_valid():
            try:
                member = registration.login_with_code(
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    address=client_address(request),
                )
            except AUTH_ERRORS as error:
                _refuse(form, error)
                context["refusal"] = error
            else:
                login(request, member.user, backend=LOGIN_BACKEND)
                return redirect(context["next"])
        context["register_hint"] = isinstance(
            context.get("refusal"), registration.PhoneNotRegistered
        )
    else:
        form = LoginForm()
    context["form"] = form
    return render(request, "members/h5/login.html", context)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("您已退出登录"))
    return redirect("members:login")


@member_view
def home(request, member):
    chain = [*ancestors_of(member.org), member.org]
    bound = set(
        ProviderIdentity.objects.filter(user=member.user).values_list("provider", flat=True)
    )
    return render(
        request,
        "members/h5/home.html",
        {
            "member": member,
            "chain": chain,
            "providers": [(p, p.key in bound) for p in providers.enabled_providers()],
            "correction_url": f"{reverse('members:correction')}?kind=details",
            "to_do_count": len(open_to_do(member)),
        },
    )


def help_page(request):
    return render(
        request,
        "members/h5/help.html",
        {
            "contacts": settings.PINGYI_SERVICE_CONTACTS,
            "is_member": member_of(request.user) is not None,
            "otp_minutes": settings.PINGYI_OTP_TTL_SECONDS // 60,
            "otp_resend": settings.PINGYI_OTP_RESEND_SECONDS,
            "otp_per_day": settings.PINGYI_OTP_MAX_PER_PHONE_PER_DAY,
        },
    )


def _provider_or_404(key: str) -> providers.LoginProvider:
    provider = providers.get_provider(key)
    if provider is None:
        raise Http404(_("该登录方式未开通"))
    return provider


def provider_start(request, key: str):
    provider = _provider_or_404(key)
    state = secrets.token_urlsafe(24)
    request.session[_PROVIDER_STATE] = {"provider": key, "state": state}
    return redirect(provider.authorization_url(state))


@never_cache
def provider_callback(request, key: str):
    provider = _provider_or_404(key)
    expected = request.session.pop(_PROVIDER_STATE, None) or {}
    state = request.GET.get("state", "")
    if expected.get("provider") != key or not secrets.compare_digest(
        str(expected.get("state", "")), state
    ):
        messages.error(request, _("登录请求已失效，请重新操作"))
        return redirect("members:login")
    member = member_of(request.user)
    try:
        subject = provider.identity_from_callback(request.GET.dict())
        if member is not None:
            providers.bind_subject(user=member.user, provider=provider, subject=subject)
            messages.success(
                request, _("已绑定%(provider)s，下次可直接登录") % {"provider": provider.label}
            )
            return redirect("members:home")
        user = providers.user_for_subject(provider=provider, subject=subject)
    except providers.ProviderError as error:
        messages.error(request, str(error))
        return redirect("members:home" if member is not None else "members:login")
    login(request, user, backend=LOGIN_BACKEND)
    return redirect("members:home")
