"""Disclosure control: what a node says of a count before the count leaves it.

ONE policy object, applied by every path that answers with counts (the explorer's contracts, the project's cohort
API for callers who may not run SPARQL, the federation): :class:`Disclosure`.

The policy (``hyperontology serve --min-count K --small-counts round-up|suppress``; docs/federation.md):

1. **Threshold.** A count under k (default 10) is never returned as such.
2. **Numbers on the explorer's contract** (it adds them up): zero stays zero; any other count is rounded UP to a
   multiple of k (``round-up``, the default: a dataset holding a few matching patients stays findable, shown as
   k), or counts under k become 0 and the rest are rounded up (``suppress``). On the project's own API a count
   under k is the text ``"<k"``.
3. **Against differencing** (two near-identical questions whose difference isolates a patient):
   - every count is rounded to a multiple of k, so cohorts that differ by fewer than k patients get the same
     answer unless they straddle a multiple of k;
   - a cohort that leaves fewer than k patients of its collection out (``everyone but X``) is answered with the
     collection's own rounded total, so a complement cannot be subtracted from the total;
   - answers are a deterministic function of the data: asking again gives the same number, nothing to average;
   - every answer is logged with the caller and the criteria (never the true counts) for audit, and the
     server's per-caller rate limit bounds how many questions can be asked.
4. **Aggregate-only** (``serve --aggregate-only``): no row-level access at all: ``/sparql`` and the search API's
   row-level routes are closed, only counts answer. Callers with the ``counts`` role never have ``/sparql``.

Examples
--------
>>> policy = Disclosure(min_count=10)
>>> [policy.number(c) for c in (0, 1, 9, 10, 11, 25)]
[0, 10, 10, 10, 20, 30]
>>> [Disclosure(10, "suppress").number(c) for c in (0, 3, 10, 11)]
[0, 0, 10, 20]
>>> [policy.shown(c) for c in (0, 3, 11)]
[0, '<10', 20]
>>> policy.number(95, total=100)  # everyone but fewer than k: the collection's own total
100
>>> Disclosure(min_count=1).number(7)
7
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

POLICIES = ("round-up", "suppress")


@dataclass(frozen=True)
class Disclosure:
    """The node's small-count policy: threshold ``min_count`` (1: counts are exact) and what happens under it."""

    min_count: int = 10
    policy: Literal["round-up", "suppress"] = "round-up"

    def __post_init__(self) -> None:
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ValueError(f"min_count must be a whole number of at least 1, not {self.min_count!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"the small-count policy is one of {', '.join(POLICIES)}, not {self.policy!r}")

    @property
    def exact(self) -> bool:
        return self.min_count == 1

    def _rounded(self, count: int) -> int:
        k = self.min_count
        return -(-count // k) * k

    def number(self, count: int, *, total: int | None = None) -> int:
        """The count as a number that may leave the node (``total``: the collection's true total, for the
        complement rule)."""
        count = max(0, int(count))
        if self.exact or count == 0:
            return count
        if total is not None and count < total and total - count < self.min_count:
            count = total
        if count < self.min_count and self.policy == "suppress":
            return 0
        return self._rounded(count)

    def shown(self, count: int, *, total: int | None = None) -> int | str:
        """The count for the project's own API: ``"<k"`` under the threshold, else :meth:`number`."""
        if not self.exact and 0 < count < self.min_count:
            return f"<{self.min_count}"
        return self.number(count, total=total)

    def describe(self) -> str:
        """One line stating the policy (served with the answers)."""
        if self.exact:
            return "exact counts (min-count 1)"
        k = self.min_count
        if self.policy == "suppress":
            return f"counts under {k} are 0; others rounded up to a multiple of {k}"
        return f"zero stays zero; other counts rounded up to a multiple of {k}"


__all__ = ["POLICIES", "Disclosure"]
