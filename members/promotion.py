"""Promotion (宣传): each unit's signed link to registration and the form, and its QR code.

The link /m/u/<token>/ carries the unit's code and the campaign's id, signed with a salt of its
own: a member who edits it to count for another unit gets a 404, not another unit's page. The
token has no timestamp, so a printed poster stays valid for the whole campaign and one unit's
link is the same string every time it is drawn (the QR code on the poster does not change).

The inviting unit is remembered in the member's session so that the registration page can say
who invited them; where the evaluation counts is still the member's union on the roster.
"""

import io
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign
from orgs.models import Org

SALT = "pingyi.members.promotion.unit-link"
_SESSION_KEY = "members_invited_by"

# The steps of 附件2 (下载注册指南) as this system has them: link or code, 实名注册, 工作评议.
STEPS = [
    gettext_lazy("用手机扫描二维码，或打开本单位的评议链接；"),
    gettext_lazy(
        "点击“实名注册”，填写与会员名册一致的姓名和身份证号码，用本人手机号接收验证码完成注册；"
    ),
    gettext_lazy(
        "注册后用手机号登录，点击“工作评议”，对所在工会的工作进行星级评定，可以填写建议，"
        "完成后点击“提交评议”即可。"
    ),
]


class InvalidLink(Exception):
    """The token was edited, forged, or names a unit or campaign that no longer exists."""


@dataclass(frozen=True)
class UnitLink:
    org: Org
    campaign: Campaign


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def unit_token(*, org: Org, campaign: Campaign) -> str:
    """The signed token of a unit's link in a campaign; the same string every time."""
    return _signer().sign_object({"o": org.code, "c": campaign.pk})


def unit_path(*, org: Org, campaign: Campaign) -> str:
    return reverse("members:unit_link", args=[unit_token(org=org, campaign=campaign)])


def unit_url(request, *, org: Org, campaign: Campaign) -> str:
    """The absolute link, on the host the admin reached the console by."""
    return request.build_absolute_uri(unit_path(org=org, campaign=campaign))


def read_unit_token(token: str) -> UnitLink:
    """The unit and campaign a token names; InvalidLink when it was tampered with.

    A campaign that does not cover the unit (another city's campaign) is refused too, though
    only a leaked signing key could produce such a token.
    """
    try:
        payload = _signer().unsign_object(token)
        code, campaign_id = str(payload["o"]), int(payload["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise InvalidLink(_("链接无效或已被修改")) from error
    org = Org.objects.filter(code=code).first()
    campaign = Campaign.objects.select_related("org").filter(pk=campaign_id).first()
    if org is None or campaign is None or not campaign.org.contains(org):
        raise InvalidLink(_("链接无效或已被修改"))
    return UnitLink(org=org, campaign=campaign)


def remember_invitation(session, link: UnitLink) -> None:
    session[_SESSION_KEY] = {"org": link.org.pk, "campaign": link.campaign.pk}


def invitation(session) -> Org | None:
    """The unit whose link brought this visitor, if any (read by the registration page)."""
    remembered = session.get(_SESSION_KEY) or {}
    org_id = remembered.get("org") if isinstance(remembered, dict) else None
    if not isinstance(org_id, int):
        return None
    return Org.objects.filter(pk=org_id).first()


def forget_invitation(session) -> None:
    session.pop(_SESSION_KEY, None)


# The QR code ---------------------------------------------------------------------------------


def qr_code(url: str) -> qrcode.QRCode:
    """The QR code of a link: error correction M survives a crease or a smudge on a poster."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_svg(url: str) -> str:
    """The code as an inline <svg> element (one path, one unit per module), no XML header."""
    image = qr_code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_png(url: str, *, box_size: int = 20) -> bytes:
    """The code as a PNG (20 px a module: about 1000 px square, sharp when printed)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=box_size
    )
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
