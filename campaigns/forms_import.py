"""The upload form of the task-table (任务分解表) import."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.models import Org
from pingyi.imports import UploadForm

from .models import Campaign


class TaskTableUploadForm(UploadForm):
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

    field_order = ("campaign", "parent", "file", "keep_valid")

    def __init__(self, *args, campaigns: list[Campaign], parents: list[Org], **kwargs):
        super().__init__(*args, parents=parents, **kwargs)
        self.fields["campaign"].choices = [
            (c.pk, _("%(name)s（%(year)s年度）") % {"name": c.name, "year": c.year})
            for c in campaigns
        ]
