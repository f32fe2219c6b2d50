"""What the spreadsheet imports' pages and commands share: upload, pending previews, scope, output.

The task table (campaigns) and the roster (members) are imported the same way: upload → preview
→ confirm → result, or the same steps from a management command. Their rules stay in their own
apps (campaigns.task_table, members.roster_import); this module holds the steps around them that
the two would otherwise write twice, so that they keep behaving alike.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import MANAGING_ROLES
from orgs.models import Org
from orgs.scoping import can_manage, get_org_in_scope_or_404, scope_roots
from orgs.selectors import within
from pingyi.spreadsheets import SpreadsheetError, Table, UploadStash, check_upload_size

ReadTable = Callable[[bytes, str], Table]

# ---------------------------------------------------------------------------------------------
# The upload form.


@dataclass
class Upload:
    """An uploaded file read as a table, with the admin's choice for a file with refused rows."""

    filename: str
    data: bytes
    table: Table
    keep_valid: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class UploadForm(forms.Form):
    """An import's upload: the org to import into, the file, whether to keep the valid rows.

    A subclass declares `parent` (a TypedChoiceField) and `file` (a FileField) in the words of
    its import; the choices of `parent` are filled in from the orgs passed as `parents`.
    """

    keep_valid = forms.BooleanField(
        label=gettext_lazy("只导入有效行"),
        required=False,
        help_text=gettext_lazy(
            "不勾选时，任何一行有误都不导入；勾选后导入其余有效的行，并列出被拒绝的行"
        ),
    )

    # Declared in the base class, keep_valid would otherwise come first.
    field_order = ("parent", "file", "keep_valid")

    def __init__(self, *args, parents: list[Org], **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        # The select shows the tree: each org indented by its depth below the highest offered.
        top = min((org.depth for org in parents), default=1)
        self.fields["parent"].choices = [
            (org.pk, "\u3000" * (org.depth - top) + org.name) for org in parents
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload_size(upload.size)
        except SpreadsheetError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload

    def read_upload(self, read: ReadTable) -> Upload | None:
        """The valid form's file, read with `read`; None, with the reason on the file field,
        when it cannot be read as a table."""
        file = self.cleaned_data["file"]
        data = file.read()
        try:
            table = read(data, file.name)
        except SpreadsheetError as exc:
            self.add_error("file", str(exc))
            return None
        return Upload(
            filename=file.name, data=data, table=table, keep_valid=self.cleaned_data["keep_valid"]
        )


# ---------------------------------------------------------------------------------------------
# Who may import where.


def can_import(user) -> bool:
    """Whether the user manages some org, and so may import into it."""
    return bool(scope_roots(user, MANAGING_ROLES))


def managed_parent(user, org_id, *, not_allowed: str) -> Org:
    """The org to import into: another unit's answers 404, one the user only reads 403."""
    try:
        pk = int(org_id)
    except (TypeError, ValueError) as exc:
        raise Http404(_("找不到该工会组织，或不在您的管理范围内")) from exc
    parent = get_org_in_scope_or_404(user, pk=pk)
    if not can_manage(user, parent):
        raise PermissionDenied(not_allowed)
    return parent


def parent_choices(
    user, chosen: Org | None, *, not_allowed: str, limit: int | None = None
) -> list[Org]:
    """The orgs offered to import into: the admin's own, their units, and the units' sub-units
    that have children (at most `limit`), with `chosen` added where it is not among them.

    A select listing thousands of grassroots unions would help nobody; any other org in scope
    is reached through the import button of its own page (?parent=).
    """
    roots = scope_roots(user, MANAGING_ROLES)
    if not roots:
        raise PermissionDenied(not_allowed)
    wanted = Q(pk__in=[root.pk for root in roots])
    for root in roots:
        wanted |= within(root) & (
            Q(depth__lte=root.depth + 1) | Q(depth=root.depth + 2, numchild__gt=0)
        )
    found = Org.objects.filter(wanted).order_by("path")
    if limit is not None:
        found = found[:limit]
    orgs = list(found)
    if chosen is not None and chosen not in orgs:
        orgs = sorted([*orgs, chosen], key=lambda org: org.path)
    return orgs


def import_list_page(request, *, template: str, imports: QuerySet, nav: str) -> HttpResponse:
    """An import's list page: the latest imports in the admin's scope, and the import button."""
    return render(
        request,
        template,
        {"imports": imports[:100], "can_import": can_import(request.user), "nav": nav},
    )


# ---------------------------------------------------------------------------------------------
# Previews waiting for their confirmation.

# Previews an admin may have open at once (tabs); older ones are dropped with their files.
MAX_PENDING = 5


class PendingImports:
    """The previews an admin may confirm: their details in the session under a random token,
    their uploaded files in an UploadStash until the import reads them."""

    def __init__(self, *, session_key: str, stash: UploadStash):
        self.session_key = session_key
        self.stash = stash

    def keep(self, request, *, upload: Upload, plan, details: dict) -> str:
        """Keep an upload whose plan may be written, for the admin to confirm: returns the token
        the confirmation posts, or "" (and keeps nothing) when the plan may not be written.

        The session holds the upload's filename, keep_valid and sha256 (the import checks that
        the file it reads is the one previewed) and the import's own details under the token.
        """
        if not plan.can_apply(keep_valid=upload.keep_valid):
            return ""
        token = self.stash.stash(data=upload.data, filename=upload.filename)
        pending = dict(request.session.get(self.session_key, {}))
        pending[token] = {
            "filename": upload.filename,
            "keep_valid": upload.keep_valid,
            "sha256": upload.sha256,
            **details,
        }
        while len(pending) > MAX_PENDING:
            old_token = next(iter(pending))
            self.stash.discard(token=old_token, filename=pending.pop(old_token)["filename"])
        request.session[self.session_key] = pending
        return token

    def get(self, request, token: str) -> dict | None:
        """The details of a preview, None when it has expired or was confirmed already."""
        return request.session.get(self.session_key, {}).get(token)

    def drop(self, request, token: str) -> None:
        """Forget a preview but leave its file, for the task that imports it (and discards it)."""
        pending = dict(request.session.get(self.session_key, {}))
        if pending.pop(token, None) is not None:
            request.session[self.session_key] = pending

    def discard(self, request, token: str) -> None:
        """Forget a preview and remove its file."""
        pending = dict(request.session.get(self.session_key, {}))
        details = pending.pop(token, None)
        if details is not None:
            self.stash.discard(token=token, filename=details["filename"])
            request.session[self.session_key] = pending


# ---------------------------------------------------------------------------------------------
# The management commands.


class ImportCommand(BaseCommand):
    """What import_targets and import_roster share: the options that say whether and as whom to
    write, finding the file, the org and the user, reading the file, and printing the plan."""

    # What the command does, as --help says it: a lazy string, in the language of the call.
    help_text = ""

    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return str(self.help_text)

    def add_write_arguments(self, parser, *, user_help: str) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("只预览每一行的结果，不写入"))
        parser.add_argument(
            "--keep-valid", action="store_true", help=_("有行被拒绝时仍导入其余有效的行")
        )
        parser.add_argument("--user", help=user_help)

    def existing_file(self, path: Path) -> Path:
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        return path

    def org_with_code(self, code: str) -> Org:
        parent = Org.objects.filter(code=code).first()
        if parent is None:
            raise CommandError(_("找不到组织代码为“%(code)s”的工会组织。") % {"code": code})
        return parent

    def importing_user(self, username: str | None, parent: Org):
        """The user named by --user, who must manage parent; None without --user."""
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("找不到用户“%(username)s”。") % {"username": username})
        if not can_manage(user, parent):
            raise CommandError(
                _("用户“%(username)s”不能管理“%(parent)s”，不能以其名义导入。")
                % {"username": username, "parent": parent.name}
            )
        return user

    def read_file(self, read: ReadTable, data: bytes, filename: str) -> Table:
        try:
            return read(data, filename)
        except SpreadsheetError as exc:
            raise CommandError(str(exc)) from exc

    def may_write(self, plan, *, keep_valid: bool, dry_run: bool) -> bool:
        """Whether to go on and write the plan: a refused plan stops the command with its
        reason, --dry-run stops it after the preview."""
        if not plan.can_apply(keep_valid=keep_valid):
            raise CommandError(
                plan.refusal_message(keep_valid_hint=_("加 --keep-valid 只导入有效行"))
            )
        if dry_run:
            self.stdout.write(_("试运行（--dry-run）：未写入任何数据。"))
            return False
        return True

    def write_rows(self, rows: Sequence, *, refused: str) -> None:
        """One line a planned row, the refused ones (outcome `refused`) in red."""
        for row in rows:
            is_refused = row.outcome == refused
            self.stdout.write(self.style.ERROR(row.message) if is_refused else row.message)

    def write_findings(
        self, *, problems: Sequence[str], warnings: Sequence[str] = (), notes: Sequence[str]
    ) -> None:
        for problem in problems:
            self.stdout.write(self.style.ERROR(f"✗ {problem}"))
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"⚠ {warning}"))
        for note in notes:
            self.stdout.write(f"· {note}")
