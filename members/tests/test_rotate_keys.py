"""rotate_member_keys: re-encrypt under a new key so the old one can be dropped."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from conftest import fake_id_number
from members import crypto
from members.corrections import file_correction
from members.models import CorrectionKind, CorrectionRequest, Member, RosterImport
from members.selectors import member_by_id_number
from members.services import add_member

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def stored_under_old_key(world, settings):
    settings.PINGYI_FIELD_KEYS = [OLD]
    w = world
    w.li = add_member(
        org=w.town_union_a, name="李华", id_number=fake_id_number(1), phone="13905141234"
    )
    w.request = file_correction(
        kind=CorrectionKind.NOT_ON_ROSTER,
        name="陈静",
        id_number=fake_id_number(90),
        phone="13912340000",
        org=w.town_union_b,
    )
    w.rosterimport = RosterImport.objects.create(
        parent=w.town,
        filename="名册.xlsx",
        sha256="0" * 64,
        refused_cipher=crypto.encrypt('[{"row": 3}]'),
    )
    return w


def test_values_still_decrypt_after_rotation_with_the_old_key_removed(
    stored_under_old_key, settings
):
    w = stored_under_old_key
    settings.PINGYI_FIELD_KEYS = [NEW, OLD]
    out = StringIO()
    call_command("rotate_member_keys", "--batch-size", "1", stdout=out)
    assert "合计已重新加密 3 条记录" in out.getvalue()

    settings.PINGYI_FIELD_KEYS = [NEW]
    member = Member.objects.get(pk=w.li.pk)
    assert (member.id_number, member.phone) == (fake_id_number(1), "13905141234")
    request = CorrectionRequest.objects.get(pk=w.request.pk)
    assert (request.id_number, request.phone) == (fake_id_number(90), "13912340000")
    assert crypto.decrypt(RosterImport.objects.get().refused_cipher) == '[{"row": 3}]'
    # Lookups go through the keyed hash, which rotation leaves alone.
    assert member_by_id_number(fake_id_number(1)) == member


def test_without_rotation_the_old_key_is_still_needed(stored_under_old_key, settings):
    settings.PINGYI_FIELD_KEYS = [NEW]
    with pytest.raises(crypto.DecryptionError):
        Member.objects.get(pk=stored_under_old_key.li.pk).id_number  # noqa: B018


def test_dry_run_counts_and_changes_nothing(stored_under_old_key, settings):
    before = Member.objects.get().id_cipher
    settings.PINGYI_FIELD_KEYS = [NEW, OLD]
    out = StringIO()
    call_command("rotate_member_keys", "--dry-run", stdout=out)
    assert "会员：1 条将重新加密" in out.getvalue()
    assert "合计将重新加密 3 条记录" in out.getvalue()
    assert Member.objects.get().id_cipher == before
