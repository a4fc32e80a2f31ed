"""Sets of message UIDs kept as ranges, written as IMAP sequence sets.

A folder's known UIDs are stored in the cursor.  UIDs are assigned in
ascending order (RFC 3501 section 2.3.1.1), so a folder's UIDs form a few
long runs, and the sequence-set syntax of RFC 3501 section 9 ("1:500,502")
stays short.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Iterator


@dataclasses.dataclass(slots=True)
class UidSet:
    """Ascending, disjoint, non-adjacent ranges of UIDs (inclusive bounds)."""

    ranges: list[list[int]] = dataclasses.field(default_factory=list)
    count: int = 0

    @classmethod
    def parse(cls, text: str) -> UidSet:
        """Read a sequence set of UIDs such as "1:5,9"; "" is the empty set."""
        uids = cls()
        for part in filter(None, text.split(",")):
            low, _, high = part.partition(":")
            first, last = int(low), int(high or low)
            if first > last:
                first, last = last, first
            if uids.ranges and first <= uids.ranges[-1][1] + 1:
                raise ValueError(f"UID set {text!r} is not in ascending order")
            uids.ranges.append([first, last])
            uids.count += last - first + 1
        return uids

    def __str__(self) -> str:
        return ",".join(
            str(low) if low == high else f"{low}:{high}" for low, high in self.ranges
        )

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        for low, high in self.ranges:
            yield from range(low, high + 1)

    def __contains__(self, uid: object) -> bool:
        if not isinstance(uid, int):
            return False
        index = bisect.bisect_right(self.ranges, uid, key=lambda r: r[0]) - 1
        return index >= 0 and self.ranges[index][0] <= uid <= self.ranges[index][1]

    @property
    def max(self) -> int:
        return self.ranges[-1][1] if self.ranges else 0

    def copy(self) -> UidSet:
        return UidSet([list(r) for r in self.ranges], self.count)

    def append(self, uid: int) -> None:
        """Add a UID above every UID in the set."""
        if self.ranges and uid <= self.ranges[-1][1]:
            raise ValueError(f"UID {uid} is not above the set's maximum {self.max}")
        if self.ranges and uid == self.ranges[-1][1] + 1:
            self.ranges[-1][1] = uid
        else:
            self.ranges.append([uid, uid])
        self.count += 1

    def discard_all(self, uids: Iterable[int]) -> None:
        """Remove the given UIDs; those not in the set are ignored."""
        gone = {uid for uid in uids if uid in self}
        if not gone:
            return
        kept = [uid for uid in self if uid not in gone]
        rebuilt = UidSet()
        for uid in kept:
            rebuilt.append(uid)
        self.ranges, self.count = rebuilt.ranges, rebuilt.count

    def groups(self, size: int) -> Iterator[list[int]]:
        """Yield the UIDs in ascending groups of at most `size`."""
        group: list[int] = []
        for uid in self:
            group.append(uid)
            if len(group) == size:
                yield group
                group = []
        if group:
            yield group


def sequence_set(uids: Iterable[int]) -> str:
    """Write ascending UIDs as a compact sequence set."""
    result = UidSet()
    for uid in sorted(set(uids)):
        result.append(uid)
    return str(result)
