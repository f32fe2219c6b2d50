"""Member self-service pages: 我要转会 and 信息更正 (H5 under /m/, usable without JavaScript)."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET

from accounts.throttle import client_address
from orgs.models import Org, OrgKind
from pingyi.formatting import cn_date

from .corrections import (
    MAX_NOTE_LENGTH,
    CorrectionError,
    count_filing,
    file_correction,
    filing_allowed,
    requests_of,
)
from .identity import IdentityError, parse_id_number, parse_mobile, parse_name
from .models import CorrectionKind, CorrectionRequest, Member
from .transfer import (
    MAX_KEYWORD_LENGTH,
    TransferError,
    find_unions,
    last_transfer,
    region_by_id,
    regions,
    transfer_member,
    union_in_region,
)

RESULT_LIMIT = 20


def _member_login_url() -> str:
    # The members' own login (SMS code) when it is installed, else the site's login page.
    try:
        return reverse("members:login")
    except NoReverseMatch:
        return settings.LOGIN_URL


def _member_of(user) -> Member | None:
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("org").filter(user=user).first()


def member_required(view):
    """Logged-in members only: a visitor is sent to log in, an admin account is refused."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), _member_login_url())
        member = _member_of(request.user)
        if member is None:
            raise PermissionDenied(_("此功能仅供已实名注册的会员使用。"))
        request.member = member
        return view(request, *args, **kwargs)

    return wrapped


def _search(region_param, keyword: str, member_org: Org | None):
    """(region, keyword, choices, more) for the picker; choices None when nothing was asked."""
    region = region_by_id(region_param, member_org) if region_param else None
    keyword = keyword.strip()[:MAX_KEYWORD_LENGTH]
    if region is None or not keyword:
        return region, keyword, None, False
    found = find_unions(region.org, keyword, limit=RESULT_LIMIT + 1)
    return region, keyword, found[:RESULT_LIMIT], len(found) > RESULT_LIMIT


# 我要转会 ----------------------------------------------------------------------------------


@member_required
def transfer(request):
    member = request.member
    if request.method == "POST":
        return _transfer_post(request, member)
    region, keyword, choices, more = _search(
        request.GET.get("region"), request.GET.get("q", ""), member.org
    )
    return render(
        request,
        "members/h5/transfer.html",
        {
            "member": member,
            "last": last_transfer(member),
            "regions": regions(member.org),
            "region": region,
            "keyword": keyword,
            "choices": choices,
            "more": more,
        },
    )


def _transfer_post(request, member: Member):
    region = region_by_id(request.POST.get("region"), member.org)
    keyword = request.POST.get("q", "")[:MAX_KEYWORD_LENGTH]
    back = reverse("members:transfer")
    if region is None:
        messages.error(request, _("请先选择所在地区。"))
        return redirect(back)
    back += "?" + urlencode({"region": region.pk, "q": keyword})
    to_org = union_in_region(region.org, request.POST.get("org"))
    if to_org is None:
        messages.error(
            request,
            _("请在搜索结果中选择正确的工会（必须在列表里选择，自行输入的名称无效）。"),
        )
        return redirect(back)
    try:
        done = transfer_member(
            member=member,
            to_org=to_org,
            by=request.user,
            address=client_address(request),
            region=region.org,
        )
    except TransferError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(
        request,
        _("转会成功：您已转入“%(union)s”，转会日期 %(date)s。")
        % {"union": done.to_org.name, "date": cn_date(done.transferred_at)},
    )
    return redirect("members:transfer")


@require_GET
def transfer_search(request):
    """JSON for the typeahead: the grassroots unions of a region whose name has the keyword.

    Union names are public; the endpoint serves visitors too (the correction form picks a union
    the same way).
    """
    member = _member_of(request.user)
    region, _keyword, choices, more = _search(
        request.GET.get("region"), request.GET.get("q", ""), member.org if member else None
    )
    results = [{"id": c.org.pk, "name": c.org.name, "parent": c.parent_name} for c in choices or []]
    return JsonResponse(
        {"region": region.pk if region else None, "results": results, "more": more},
        json_dumps_params={"ensure_ascii": False},
    )


# 信息更正 ----------------------------------------------------------------------------------


class CorrectionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("更正类型"), choices=CorrectionKind.choices)
    name = forms.CharField(label=gettext_lazy("正确姓名"), max_length=60)
    id_number = forms.CharField(
        label=gettext_lazy("正确身份证号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("联系电话"),
        max_length=20,
        help_text=gettext_lazy("处理结果将以短信告知此号码"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def _parsed(self, parse, field):
        try:
            return parse(self.cleaned_data[field])
        except IdentityError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_name(self):
        return self._parsed(parse_name, "name")

    @sensitive_variables()
    def clean_id_number(self):
        return self._parsed(parse_id_number, "id_number").number

    @sensitive_variables()
    def clean_phone(self):
        return self._parsed(parse_mobile, "phone")


def _grassroots(org_id) -> Org | None:
    try:
        wanted = int(str(org_id))
    except (TypeError, ValueError):
        return None
    return Org.objects.filter(pk=wanted, kind=OrgKind.GRASSROOTS).first()


@sensitive_post_parameters("id_number", "phone")
def correction(request):
    """File a correction request; visitors too (who failed to register has no account)."""
    member = _member_of(request.user)
    source = request.POST if request.method == "POST" else request.GET
    union = _grassroots(source.get("org"))
    if union is None and member is not None and "change" not in request.GET:
        union = member.org
    kind = source.get("kind") if source.get("kind") in CorrectionKind.values else None
    context = {"member": member, "union": union, "kind": kind or CorrectionKind.NAME_ID_MISMATCH}

    if union is None or "change" in request.GET:
        region, keyword, choices, more = _search(
            request.GET.get("region"), request.GET.get("q", ""), member.org if member else None
        )
        keep = {k: v for k, v in (("kind", kind), ("name", request.GET.get("name"))) if v}
        context.update(
            regions=regions(member.org if member else None),
            region=region,
            keyword=keyword,
            choices=choices,
            more=more,
            keep=keep,
            keep_query=urlencode(keep),
        )
        return render(request, "members/h5/correction_pick.html", context)

    if request.method == "POST":
        form = CorrectionForm(request.POST)
        address = client_address(request)
        if not filing_allowed(address):
            messages.error(request, _("提交过于频繁，请一小时后再试，或联系所在工会或客服。"))
            return render(
                request, "members/h5/correction.html", {**context, "form": form}, status=429
            )
        if form.is_valid():
            count_filing(address)
            data = form.cleaned_data
            try:
                filed = file_correction(
                    kind=data["kind"],
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    org=union,
                    note=data["note"],
                    member=member,
                    submitted_by=request.user,
                    address=address,
                )
            except (IdentityError, CorrectionError) as error:
                form.add_error(None, str(error))
            else:
                request.session["correction_filed"] = filed.pk
                return redirect("members:correction_done")
    else:
        initial = {
            "kind": context["kind"],
            "name": request.GET.get("name", "")[:60] or (member.name if member else ""),
        }
        form = CorrectionForm(initial=initial)
    return render(request, "members/h5/correction.html", {**context, "form": form})


def correction_done(request):
    filed = None
    filed_id = request.session.get("correction_filed")
    if filed_id:
        filed = CorrectionRequest.objects.select_related("org").filter(pk=filed_id).first()
    if filed is None:
        return redirect("members:correction")
    return render(
        request,
        "members/h5/correction_done.html",
        {"filed": filed, "member": _member_of(request.user)},
    )


@member_required
def corrections_mine(request):
    return render(
        request,
        "members/h5/correction_list.html",
        {"member": request.member, "requests": requests_of(request.member, request.user)},
    )
