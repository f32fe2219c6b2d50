"""The upload form of the roster (会员名册) import."""

from django import forms
from django.utils.translation import gettext_lazy

from orgs.models import Org
from pingyi.spreadsheets import SpreadsheetError, check_upload_size


class RosterUploadForm(forms.Form):
    parent = forms.TypedChoiceField(
        label=gettext_lazy("导入范围"),
        coerce=int,
        help_text=gettext_lazy("表中“所在工会”须是该组织或其下级的基层工会"),
    )
    # Empty files are refused by read_roster, with the same message as the command gives.
    file = forms.FileField(
        label=gettext_lazy("会员名册文件"),
        allow_empty_file=True,
        help_text=gettext_lazy(
            "Excel（.xlsx、.xls）或 .csv（UTF-8 或 GBK 编码）；表头为 姓名、身份证号码、"
            "手机号码、所在工会（名称或代码），可另加 性别、入会时间"
        ),
    )
    keep_valid = forms.BooleanField(
        label=gettext_lazy("只导入有效行"),
        required=False,
        help_text=gettext_lazy(
            "不勾选时，任何一行有误都不导入；勾选后导入其余有效的行，并列出被拒绝的行"
        ),
    )

    def __init__(self, *args, parents: list[Org], **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
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
