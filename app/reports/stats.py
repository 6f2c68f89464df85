"""Small statistics used by the compliance report: nearest-rank percentiles, safe percentages."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


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
    """``part`` of ``whole`` in percent, one decimal, half way rounded up (1 of 16 is 6.3, as a spreadsheet's ROUND
    says; Python's ``round`` gave the even 6.2), from the exact fraction; 0.0 when ``whole`` is 0."""
    if not whole:
        return 0.0
    tenths = math.floor(Fraction(1000 * part, whole) + Fraction(1, 2))  # counts: never negative
    return tenths / 10


@dataclass(frozen=True)
class Spread:
    """Time to callback in seconds: how many samples, median, p90, p99 and maximum."""

    count: int
    median: float | None
    p90: float | None
    p99: float | None
    maximum: float | None

    @classmethod
    def of_counts(cls, counts: Mapping[float, int]) -> Spread:
        """The spread of values given as value -> how many times it occurs (the same figures as ``of``)."""
        ordered = sorted((v, n) for v, n in counts.items() if n > 0)
        total = sum(n for _, n in ordered)
        if not total:
            return cls(0, None, None, None, None)
        return cls(total, *(_rank_in(ordered, total, p) for p in (50, 90, 99)), ordered[-1][0])

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values`` (all None when there are none)."""
        return cls(len(values), nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 99),
                   max(values) if values else None)


def spread_json(spread: Spread) -> dict[str, Any]:
    """A spread in an export's JSON (the compliance report's, the updates report's): one shape for both."""
    return {"count": spread.count, "median": spread.median, "p90": spread.p90, "p99": spread.p99,
            "max": spread.maximum, "percentile_method": "nearest-rank"}


def _rank_in(ordered: Sequence[tuple[float, int]], total: int, p: float) -> float:
    """Nearest rank over (value, count) pairs sorted by value."""
    rank = max(math.ceil(Fraction(str(p)) * total / 100), 1)
    seen = 0
    for value, n in ordered:
        seen += n
        if seen >= rank:
            return value
    return ordered[-1][0]
