"""The roster (会员名册) and everything that touches a member's identity.

ID numbers and phones are stored three ways: encrypted (to show them to those who need them),
as a keyed hash (to find them) and masked (to show them to everyone else). Nothing stores them
in clear.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import crypto
from .identity import Sex, mask_id_number, mask_mobile


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("在会")
    LEFT = "left", _("已离会")


class SexChoice(models.TextChoices):
    MALE = Sex.MALE, _("男")
    FEMALE = Sex.FEMALE, _("女")


class PersonalNumbers:
    """An ID number and a phone kept as ciphertext, keyed hash (the ID) and masked text.

    Shared by the roster entry and a correction request, which stores the correct numbers the
    same way.
    """

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_cipher)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_cipher)

    def set_id_number(self, number: str) -> None:
        self.id_cipher = crypto.encrypt(number)
        self.id_hash = crypto.lookup_hash("id", number)
        self.id_masked = mask_id_number(number)

    def set_phone(self, number: str) -> None:
        self.phone_cipher = crypto.encrypt(number)
        self.phone_masked = mask_mobile(number) if number else ""


class Member(PersonalNumbers, models.Model):
    """A person on a grassroots union's roster; identity = name + 身份证号."""

    # Indexed by the (org, id) and (org, registered_at) indexes below, not on its own.
    org = models.ForeignKey(
        "orgs.Org",
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("所在工会"),
        db_index=False,
    )
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_cipher = models.TextField(_("身份证号码（密文）"))
    id_hash = models.CharField(_("身份证号码（检索码）"), max_length=64, unique=True)
    id_masked = models.CharField(_("身份证号码"), max_length=18)
    phone_cipher = models.TextField(_("手机号码（密文）"), blank=True)
    phone_hash = models.CharField(_("手机号码（检索码）"), max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("手机号码"), max_length=11, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=SexChoice.choices)
    birth_date = models.DateField(_("出生日期"))
    joined_on = models.DateField(_("入会时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # The verified account (实名注册): set once name + ID matched the roster.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("账号"),
    )
    registered_at = models.DateTimeField(_("注册时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        indexes = [
            models.Index(fields=["org", "registered_at"], name="member_org_registered"),
            # The roster's keyset pages (newest first) of a subtree: ids by union, index-only.
            models.Index(fields=["org", "id"], name="member_org_id"),
            # Counting registered members of a subtree (注册率) without reading the rows.
            models.Index(
                fields=["org"], condition=Q(user__isnull=False), name="member_registered_org"
            ),
        ]
        constraints = [
            # A phone logs in to one account: registered members never share one.
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=Q(user__isnull=False) & ~Q(phone_hash=""),
                name="member_registered_phone_once",
            ),
            models.CheckConstraint(condition=Q(sex__in=SexChoice.values), name="member_sex_known"),
            models.CheckConstraint(
                condition=Q(status__in=MemberStatus.values), name="member_status_known"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="member_name_not_empty"),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(registered_at__isnull=False),
                name="member_registered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"

    @property
    def is_registered(self) -> bool:
        return self.user_id is not None

    def set_phone(self, number: str) -> None:
        super().set_phone(number)
        self.phone_hash = crypto.lookup_hash("phone", number)


class MemberTransfer(models.Model):
    """我要转会: a member moved to another grassroots union. Earlier evaluations stay put."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="transfers")
    from_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("原工会")
    )
    to_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("新工会")
    )
    transferred_at = models.DateTimeField(_("转会时间"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("转会记录")
        verbose_name_plural = _("转会记录")
        ordering = ["-transferred_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_org=models.F("to_org")), name="transfer_changes_union"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member.name}：{self.from_org} → {self.to_org}"


class CorrectionKind(models.TextChoices):
    NAME_ID_MISMATCH = "mismatch", _("姓名与身份证号码不符")
    NOT_ON_ROSTER = "missing", _("名册中查无本人")
    WRONG_DETAILS = "details", _("信息有误")


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    APPROVED = "approved", _("已更正")
    REFUSED = "refused", _("已驳回")


class CorrectionRequest(PersonalNumbers, models.Model):
    """信息更正: a member's request that the roster hold them correctly.

    The correct data the member gives is stored like the roster's (encrypted, hashed, masked).
    """

    kind = models.CharField(_("类型"), max_length=10, choices=CorrectionKind.choices)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.PENDING,
    )
    # The roster entry to correct, when one is known (a logged-in member, a matched ID).
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="corrections"
    )
    # The union the request belongs to: its admins (and service staff above) work it.
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在工会")
    )
    name = models.CharField(_("正确姓名"), max_length=50)
    id_cipher = models.TextField(_("正确身份证号码（密文）"))
    id_hash = models.CharField(max_length=64, db_index=True)
    id_masked = models.CharField(_("正确身份证号码"), max_length=18)
    phone_cipher = models.TextField(_("联系电话（密文）"), blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=11, blank=True)
    note = models.TextField(_("说明"), max_length=500, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.TextField(_("处理意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("信息更正申请")
        verbose_name_plural = _("信息更正申请")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "org"], name="correction_status_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CorrectionKind.values), name="correction_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CorrectionStatus.values), name="correction_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status=CorrectionStatus.PENDING) | Q(decided_at__isnull=False),
                name="correction_decided_has_time",
            ),
            # One pending request per ID number, even when two are filed at the same moment.
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(status=CorrectionStatus.PENDING),
                name="correction_pending_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"


class AuditAction(models.TextChoices):
    ROSTER_CREATED = "roster_created", _("导入新增")
    ROSTER_UPDATED = "roster_updated", _("导入覆盖")
    REGISTERED = "registered", _("实名注册")
    TRANSFERRED = "transferred", _("转会")
    CORRECTED = "corrected", _("信息更正")
    CORRECTION_REFUSED = "correction_refused", _("更正驳回")
    EDITED = "edited", _("管理员修改")
    REVEALED = "revealed", _("查看完整个人信息")
    EXPORTED = "exported", _("导出个人信息")
    TRACES_VIEWED = "traces_viewed", _("查看提交痕迹")


class AuditEvent(models.Model):
    """Who did what to whose identity, and when. Values are recorded masked, never in clear."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("操作"), max_length=20, choices=AuditAction.choices)
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    # The union concerned, so an admin reads the audit of their own subtree only; indexed by
    # the (org, id) index below.
    org = models.ForeignKey(
        "orgs.Org",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # {field: [before, after]} with ID numbers and phones masked; or a note for the action.
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    address = models.CharField(_("来源地址"), max_length=45, blank=True)

    class Meta:
        verbose_name = _("个人信息操作日志")
        verbose_name_plural = _("个人信息操作日志")
        ordering = ["-at"]
        # The audit log's keyset pages (newest first) of a subtree: ids by union, index-only.
        indexes = [models.Index(fields=["org", "id"], name="audit_org_id")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("登录")


class OneTimeCode(models.Model):
    """A one-time code sent by SMS: expires, is used once, allows a few tries."""

    phone_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=45, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["phone_hash", "purpose", "created_at"], name="otp_phone_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token of the API; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class RosterImport(models.Model):
    """One run of the roster import: what it changed and what it refused.

    Refused rows hold personal data, so they are kept encrypted (refused_cipher, a JSON list).
    """

    parent = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("导入范围")
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        _("状态"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    keep_valid = models.BooleanField(_("只导入有效行"), default=False)
    rows_total = models.PositiveIntegerField(_("数据行"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("覆盖更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变化"), default=0)
    refused_count = models.PositiveIntegerField(_("拒绝"), default=0)
    # {field: number of members whose field changed}
    changed_fields = models.JSONField(default=dict, blank=True)
    refused_cipher = models.TextField(blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("名册导入")
        verbose_name_plural = _("名册导入")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_status_display()}）"


class ProviderIdentity(models.Model):
    """An account of a third-party login provider (WeChat, Alipay…) bound to a member's login."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_identities"
    )
    provider = models.CharField(_("登录方式"), max_length=30)
    # The provider's stable id of the person (an openid, a user_id): never shown to anyone.
    subject = models.CharField(max_length=191)
    created_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("第三方登录绑定")
        verbose_name_plural = _("第三方登录绑定")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="provider_subject_once"),
            models.UniqueConstraint(fields=["user", "provider"], name="provider_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.provider}"


class RegistrationCount(models.Model):
    """Changes in registered members per org (its subtree included) per local day.

    A registration adds one to the member's union and every ancestor up to the root; a
    registered member's transfer takes one from the old chain and adds one to the new (the
    common ancestors are left alone). Registered members of an org at the end of a day are the
    sum of its changes up to that day. Like the evaluation counters, each (org, day) is split
    over a few shard rows picked at random, so that registrations do not queue on the root's row.
    """

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    change = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("每日注册变化")
        verbose_name_plural = _("每日注册变化")
        constraints = [
            models.UniqueConstraint(
                fields=["org", "day", "shard"], name="one_registration_count_per_org_day_shard"
            ),
        ]
        indexes = [  # as DailyCount's: the sum of an org's changes is an index-only scan
            models.Index(
                fields=["org", "day"], include=["change"], name="registration_count_covering"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_id} {self.day}: {self.change:+d}"


class ReminderKind(models.TextChoices):
    REGISTER = "register", _("提醒注册")
    EVALUATE = "evaluate", _("提醒评议")


class ReminderStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("未发送")


class Reminder(models.Model):
    """One reminder to one member in a campaign, sent by a union admin: the log and the limit."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="reminders"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reminders")
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在工会")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=ReminderKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ReminderStatus.choices)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["campaign", "member", "sent_at"], name="reminder_member_time"),
            models.Index(fields=["org", "sent_at"], name="reminder_org_time"),
            models.Index(fields=["sent_by", "sent_at"], name="reminder_sender_time"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.get_kind_display()} {self.sent_at:%Y-%m-%d %H:%M}"
