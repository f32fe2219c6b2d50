"""The upload form of the task-table (任务分解表) import."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.models import Org

from .models import Campaign
from .task_table import TaskTableError, check_upload_size


class TaskTableUploadForm(forms.Form):
    campaign = forms.TypedChoiceField(label=gettext_lazy("评议活动"), coerce=int)
    parent = forms.TypedChoiceField(
        label=gettext_lazy("导入到"),
        coerce=int,
        help_text=gettext_lazy("表中各单位将作为该组织的直属下级新增或更新"),
    )
    # Empty files are refused by read_table, with the same message as the command gives.
    file = forms.FileField(
        label=gettext_lazy("任务分解表文件"),
        allow_empty_file=True,
        help_text=gettext_lazy(
            "Excel（.xlsx、.xls）或 .csv（UTF-8 或 GBK 编码）；"
            "表头为 序号、名称、年报工会会员人数(人)、参评目标工会会员数(人)"
        ),
    )
    keep_valid = forms.BooleanField(
        label=gettext_lazy("只导入有效行"),
        required=False,
        help_text=gettext_lazy(
            "不勾选时，任何一行有误都不导入；勾选后导入其余有效的行，并列出被拒绝的行"
        ),
    )

    def __init__(self, *args, campaigns: list[Campaign], parents: list[Org], **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["campaign"].choices = [
            (c.pk, _("%(name)s（%(year)s年度）") % {"name": c.name, "year": c.year})
            for c in campaigns
        ]
        top = min((org.depth for org in parents), default=1)
        self.fields["parent"].choices = [
            (org.pk, "\u3000" * (org.depth - top) + org.name) for org in parents
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload_size(upload.size)
        except TaskTableError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload
