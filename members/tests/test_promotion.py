"""Promotion: each unit's signed link, its H5 landing page, and the printable QR-code poster."""

import io
import re

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from conftest import fake_id_number
from members import promotion
from members.models import AuditAction, AuditEvent


def _token_of(url: str) -> str:
    return re.search(r"/m/u/([^/]+)/", url).group(1)


def _poster(client, org, campaign):
    return client.get(reverse("outreach:poster", args=[org.pk]), {"campaign": campaign.pk})


def test_the_signed_link_names_its_unit_and_campaign(world):
    token = promotion.unit_token(org=world.town_union_a, campaign=world.campaign)
    link = promotion.read_unit_token(token)
    assert link.org == world.town_union_a
    assert link.campaign == world.campaign
    # The same unit and campaign give the same link every time: a printed poster stays valid.
    assert token == promotion.unit_token(org=world.town_union_a, campaign=world.campaign)
    assert token != promotion.unit_token(org=world.town_union_b, campaign=world.campaign)


def test_a_link_edited_to_name_another_unit_answers_404(client, world):
    token = promotion.unit_token(org=world.town_union_a, campaign=world.campaign)
    other = promotion.unit_token(org=world.town_union_b, campaign=world.campaign)
    # The other unit's payload with this unit's signature, and a flipped character.
    forged = other.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, flipped, "nonsense"):
        response = client.get(f"/m/u/{bad}/")
        assert response.status_code == 404
        assert "链接无效或已被修改" in response.content.decode()
    # A signature made with another salt (another signed thing of the app) is refused too.
    from django.core import signing

    alien = signing.Signer(salt="something-else").sign_object(
        {"o": world.town_union_a.code, "c": world.campaign.pk}
    )
    assert client.get(f"/m/u/{alien}/").status_code == 404


def test_the_landing_page_shows_the_unit_campaign_and_steps(client, world, open_campaign):
    url = promotion.unit_path(org=world.town_union_a, campaign=open_campaign)
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "真州镇中心小学工会" in page
    assert "2026年会员网上评议" in page
    assert "评议时间：" in page
    assert "实名注册" in page and reverse("members:register") in page
    evaluate = reverse("members:evaluate", args=[open_campaign.pk])
    assert f"{reverse('members:login')}?{urlencode({'next': evaluate})}" in page  # 登录评议
    assert str(promotion.STEPS[1]) in page


def test_registration_through_a_link_names_the_inviting_unit(
    client, roster, open_campaign, sms_outbox
):
    w = roster
    client.get(promotion.unit_path(org=w.town_union_a, campaign=open_campaign))
    page = client.get(reverse("members:register")).content.decode()
    assert "邀请单位：真州镇中心小学工会" in page

    _register(client, sms_outbox, name="李华", number=fake_id_number(1), phone="13905141234")

    home = client.get(reverse("members:home")).content.decode()
    assert "注册成功" in home
    assert "评议计入" not in home  # the roster agrees with the inviting unit: nothing to say
    event = AuditEvent.objects.get(member=w.li, action=AuditAction.REGISTERED)
    assert "真州镇中心小学工会推广链接" in event.note


def test_registration_of_another_unions_member_says_where_it_counts(
    client, roster, open_campaign, sms_outbox
):
    w = roster
    # 赵明 is on 枣林湾酒店工会's roster but came through 真州镇中心小学工会's poster.
    client.get(promotion.unit_path(org=w.town_union_a, campaign=open_campaign))
    _register(client, sms_outbox, name="赵明", number=fake_id_number(3), phone="13805140001")
    home = client.get(reverse("members:home")).content.decode()
    assert "名册显示您是“枣林湾酒店工会”的会员" in home
    assert "而不是邀请单位“真州镇中心小学工会”" in home
    w.zhao.refresh_from_db()
    assert w.zhao.org == w.park_union  # nothing moved


def _register(client, outbox, *, name, number, phone):
    client.post(reverse("members:register"), {"phone": phone, "send_code": "1"})
    code = re.search(r"\d{6}", outbox[-1].message).group(0)
    response = client.post(
        reverse("members:register"),
        {"name": name, "id_number": number, "phone": phone, "code": code},
    )
    assert response.status_code == 302, response.content.decode()


def test_the_poster_carries_the_qr_code_of_the_exact_signed_link(login, world):
    client = login(world.union_admin)
    response = _poster(client, world.town_union_a, world.campaign)
    page = response.content.decode()
    assert response.status_code == 200
    assert "2022年会员网上评议" in page and "真州镇中心小学工会" in page
    assert "评议时间：2022年9月1日至11月30日" in page
    assert "@page { size: A4 portrait" in page
    url = f"http://testserver{promotion.unit_path(org=world.town_union_a, campaign=world.campaign)}"
    assert url in page
    # The modules drawn in the page's SVG are those of the QR code of that URL, module by module.
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert _dark_modules(svg) == _expected_dark_modules(url)
    # And the link read back from the page names this unit.
    assert promotion.read_unit_token(_token_of(url)).org == world.town_union_a


def _dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of qrcode's SvgPathImage: one 'Mx,yH…V…H…z' square each."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    return {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", path)}


def _expected_dark_modules(url: str) -> set[tuple[int, int]]:
    matrix = promotion.qr_code(url).get_matrix()  # includes the quiet zone, as the SVG does
    return {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}


def test_the_png_decodes_to_the_signed_link(login, world):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    client = login(world.union_admin)
    response = client.get(
        reverse("outreach:poster_png", args=[world.town_union_a.pk]),
        {"campaign": world.campaign.pk},
    )
    assert response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    image = Image.open(io.BytesIO(response.content))
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    url = f"http://testserver{promotion.unit_path(org=world.town_union_a, campaign=world.campaign)}"
    assert decoded == [url]


def test_the_svg_decodes_to_the_signed_link(world):
    """The inline SVG itself, drawn back to pixels from its path, reads as the link."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image, ImageDraw

    url = "http://testserver" + promotion.unit_path(org=world.park_union, campaign=world.campaign)
    modules = _dark_modules(promotion.qr_svg(url))
    size = max(max(x, y) for x, y in modules) + 5
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in modules:
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]


def test_another_units_admin_gets_404_on_the_poster(login, world):
    client = login(world.park_admin)
    assert _poster(client, world.town_union_a, world.campaign).status_code == 404
    png = client.get(reverse("outreach:poster_png", args=[world.town_union_a.pk]))
    assert png.status_code == 404
    # Their own unit, and any unit of any kind (a park union, not only grassroots), works.
    assert _poster(client, world.park, world.campaign).status_code == 200
    assert _poster(client, world.park_union, world.campaign).status_code == 200


def test_the_poster_refuses_a_campaign_the_unit_is_not_in(login, world, other_campaign):
    client = login(world.city_admin)
    assert _poster(client, world.town_union_a, other_campaign).status_code == 404


def test_the_poster_shows_the_support_contacts(login, world, settings):
    settings.PINGYI_SERVICE_CONTACTS = [
        {"label": "客服电话", "value": "19951961330"},
        {"label": "QQ群", "value": ""},
    ]
    page = _poster(login(world.town_admin), world.town, world.campaign).content.decode()
    assert "客服电话：19951961330" in page
    assert "QQ群" not in page


def test_the_outreach_index_lists_the_admins_units_a_level_at_a_time(login, world):
    client = login(world.town_admin)
    top = client.get(reverse("outreach:index")).content.decode()
    assert "真州镇" in top and "枣林湾旅游度假区" not in top
    below = client.get(reverse("outreach:index"), {"org": world.town.pk}).content.decode()
    assert "真州镇中心小学工会" in below and "真州镇卫生院工会" in below
    assert reverse("outreach:members", args=[world.town_union_a.pk]) in below
    assert reverse("outreach:poster", args=[world.town_union_b.pk]) in below
    refused = client.get(reverse("outreach:index"), {"org": world.park.pk})
    assert refused.status_code == 404
