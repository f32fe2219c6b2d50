"""The upload form of the roster (会员名册) import."""

from django import forms
from django.utils.translation import gettext_lazy

from pingyi.imports import UploadForm


class RosterUploadForm(UploadForm):
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
