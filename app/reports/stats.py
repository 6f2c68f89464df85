"""Small statistics used by the compliance report: nearest-rank percentiles, safe percentages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by nearest rank: the ceil(p/100 * n)-th smallest value (None when empty).

    Always one of the observed values, never an interpolation: a 90th percentile of
    "14 min 10 s" means some customer really waited that long.
    """
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(Fraction(str(p)) * len(ordered) / 100)  # exact: no 0.9 * 10 = 9.000001
    return ordered[max(rank, 1) - 1]


def percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent, one decimal; 0.0 when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class Spread:
    """Time to callback in seconds: how many samples, median, p90, p99 and maximum."""

    count: int
    median: float | None
    p90: float | None
    p99: float | None
    maximum: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values`` (all None when there are none)."""
        return cls(len(values), nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 99),
                   max(values) if values else None)
