"""Pure rules of campaigns: the target rule and its rounding."""

from decimal import ROUND_HALF_UP, Decimal


def target_from_rate(reported_members: int, rate: Decimal) -> int:
    """参评目标 by the rule: reported members × rate, rounded half up (381 × 70% → 267)."""
    exact = Decimal(reported_members) * Decimal(rate)
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
