"""Re-encrypt every stored ID number, phone and refused import row under the first field key.

Rotate a key: put the new key first in PINGYI_FIELD_KEYS (keep the old one after it), run this
command, then drop the old key. Lookup hashes do not change (they use PINGYI_LOOKUP_KEY).
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from members import crypto
from members.models import CorrectionRequest, Member, RosterImport

# (model, cipher fields): everything that holds a Fernet token.
ENCRYPTED = [
    (Member, ("id_cipher", "phone_cipher")),
    (CorrectionRequest, ("id_cipher", "phone_cipher")),
    (RosterImport, ("refused_cipher",)),
]


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("用 PINGYI_FIELD_KEYS 的第一个密钥重新加密全部会员身份证号码、手机号码等个人信息")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("只统计将重新加密的记录数"))
        parser.add_argument("--batch-size", type=int, default=1000, help=_("每批处理的记录数"))

    def handle(self, *args, dry_run: bool = False, batch_size: int = 1000, **options):
        total = 0
        for model, fields in ENCRYPTED:
            label = model._meta.verbose_name
            if dry_run:
                count = model.objects.count()
                self.stdout.write(
                    _("%(model)s：%(count)d 条将重新加密") % {"model": label, "count": count}
                )
                total += count
                continue
            count = rotate_model(model, fields, batch_size=batch_size)
            self.stdout.write(
                _("%(model)s：已重新加密 %(count)d 条") % {"model": label, "count": count}
            )
            total += count
        summary = (
            _("合计将重新加密 %(total)d 条记录")
            if dry_run
            else _("合计已重新加密 %(total)d 条记录")
        )
        self.stdout.write(self.style.SUCCESS(summary % {"total": total}))


def rotate_model(model, fields: tuple[str, ...], *, batch_size: int = 1000) -> int:
    """Re-encrypt the fields of every row, a batch per transaction, walking the primary key."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", *fields)[:batch_size]
            )
            if not rows:
                return done
            for row in rows:
                for field in fields:
                    setattr(row, field, crypto.rotate(getattr(row, field)))
            model.objects.bulk_update(rows, fields)
        done += len(rows)
        last_pk = rows[-1].pk
