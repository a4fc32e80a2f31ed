"""Score the matcher on the labelled evaluation set.

    python evaluation/evaluate.py [--data evaluation/data]

prints one row per activity kind and an overall row, then exits with 1 when
an overall target is missed.  A link is an (activity, practice) pair.  A
true link is an expected link of an activity, whether its label is
confirmed or needs_review.

- precision: confirmed links that are true links labelled confirmed, over
  all confirmed links.  A confirmed link whose label is needs_review
  counts against it (shown as "over"), because the metadata could not
  decide it.
- recall: true links found, confirmed or needs_review, over all true links.
- review: true links found as needs_review, over all true links.  A true
  link labelled needs_review counts here when found, as it should.
- person: found true links whose person matches the label (None included).
- false review: needs_review links that are no true link; not a target.

Activities are matched in time order, and each reply gets the links that
its nearest earlier message received in the same run, as the sync
pipeline gives them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Participant,
    ParticipantRole,
)
from matcher import (
    Link,
    MatchSettings,
    SourceIndex,
    SourceKind,
    SourceRecord,
    Status,
    match_activity,
)

DATA = Path(__file__).resolve().parent / "data"

MIN_PRECISION = 0.99
MIN_RECALL = 0.97
MAX_REVIEW_SHARE = 0.10


@dataclasses.dataclass
class Labelled:
    """An activity with its kind and its expected links by practice."""

    activity: Activity
    case: str
    expected: dict[int, tuple[int | None, Status]]


@dataclasses.dataclass
class Counts:
    activities: int = 0
    true_links: int = 0
    confirmed: int = 0
    confirmed_right: int = 0
    over_confirmed: int = 0
    found: int = 0
    found_in_review: int = 0
    person_right: int = 0
    false_review: int = 0

    def add(self, other: Counts) -> None:
        for field in dataclasses.fields(self):
            setattr(
                self, field.name, getattr(self, field.name) + getattr(other, field.name)
            )

    @property
    def precision(self) -> float | None:
        return self.confirmed_right / self.confirmed if self.confirmed else None

    @property
    def recall(self) -> float | None:
        return self.found / self.true_links if self.true_links else None

    @property
    def review_share(self) -> float | None:
        return self.found_in_review / self.true_links if self.true_links else None

    @property
    def person_accuracy(self) -> float | None:
        return self.person_right / self.found if self.found else None


def source_from_json(row: dict[str, object]) -> SourceRecord:
    return SourceRecord(
        id=int(row["id"]),  # type: ignore[call-overload]
        kind=SourceKind(row["kind"]),
        name=str(row["name"]),
        practice_id=row.get("practice_id"),  # type: ignore[arg-type]
        title=row.get("title"),  # type: ignore[arg-type]
        emails=tuple(row.get("emails", ())),  # type: ignore[arg-type]
        domains=tuple(row.get("domains", ())),  # type: ignore[arg-type]
        phones=tuple(row.get("phones", ())),  # type: ignore[arg-type]
        address=row.get("address"),  # type: ignore[arg-type]
    )


def activity_from_json(row: dict[str, object]) -> Activity:
    participants = tuple(
        Participant(
            address=str(item["address"]),
            role=ParticipantRole(item["role"]),
            name=item.get("name"),
            name_from_comment=bool(item.get("name_from_comment", False)),
            response=item.get("response"),
        )
        for item in row["participants"]  # type: ignore[union-attr]
    )
    external_id = str(row["external_id"])
    return Activity(
        kind=ActivityKind(row["kind"]),
        provider_key=external_id,
        external_id=external_id,
        occurred_at=dt.datetime.fromisoformat(str(row["occurred_at"])),
        participants=participants,
        subject=row.get("subject"),  # type: ignore[arg-type]
        location=row.get("location"),  # type: ignore[arg-type]
        in_reply_to=row.get("in_reply_to"),  # type: ignore[arg-type]
        references=tuple(row.get("references", ())),  # type: ignore[arg-type]
        flags=frozenset(Flag(flag) for flag in row.get("flags", ())),  # type: ignore[union-attr]
    )


def labelled_from_json(row: dict[str, object]) -> Labelled:
    expected = {
        int(item["practice"]): (item["person"], Status(item["status"]))
        for item in row["expected"]  # type: ignore[union-attr]
    }
    return Labelled(activity_from_json(row), str(row["case"]), expected)


def read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def load(data: Path) -> tuple[list[SourceRecord], MatchSettings, list[Labelled]]:
    """Read the sources, the workspace settings and the labelled activities."""
    sources = [source_from_json(row) for row in read_jsonl(data / "sources.jsonl")]
    workspace = json.loads((data / "workspace.json").read_text(encoding="utf-8"))
    settings = MatchSettings(
        own_domains=frozenset(workspace["own_domains"]),
        staff_addresses=frozenset(workspace["staff_addresses"]),
    )
    labelled = [
        labelled_from_json(row) for row in read_jsonl(data / "activities.jsonl")
    ]
    return sources, settings, labelled


def match_in_order(
    items: Iterable[Activity], index: SourceIndex, settings: MatchSettings
) -> dict[str, tuple[Link, ...]]:
    """Match activities in time order with thread links; return links by id."""
    known: dict[str, tuple[Link, ...]] = {}
    results: dict[str, tuple[Link, ...]] = {}
    for activity in sorted(items, key=lambda item: item.occurred_at):
        inherited = thread_links(activity, known)
        result = match_activity(activity, index, settings, inherited)
        results[activity.external_id] = result.links
        if activity.kind is ActivityKind.EMAIL and result.links:
            known[activity.external_id] = result.links
    return results


def thread_links(
    activity: Activity, known: dict[str, tuple[Link, ...]]
) -> tuple[Link, ...]:
    """Return the links of the nearest earlier message, as the pipeline does."""
    if activity.kind is not ActivityKind.EMAIL:
        return ()
    for message_id in (activity.in_reply_to, *reversed(activity.references)):
        if message_id and message_id in known:
            return known[message_id]
    return ()


def score(item: Labelled, links: tuple[Link, ...]) -> Counts:
    counts = Counts(activities=1, true_links=len(item.expected))
    for link in links:
        truth = item.expected.get(link.practice_id)
        if link.status is Status.CONFIRMED:
            counts.confirmed += 1
            if truth is not None and truth[1] is Status.CONFIRMED:
                counts.confirmed_right += 1
            elif truth is not None:
                counts.over_confirmed += 1
        elif truth is None:
            counts.false_review += 1
        if truth is None:
            continue
        counts.found += 1
        counts.found_in_review += link.status is Status.NEEDS_REVIEW
        counts.person_right += link.person_id == truth[0]
    return counts


def evaluate(data: Path = DATA) -> dict[str, Counts]:
    """Match the whole set and return the counts per kind and "overall"."""
    sources, settings, labelled = load(data)
    index = SourceIndex(sources)
    results = match_in_order((item.activity for item in labelled), index, settings)
    by_case: dict[str, Counts] = defaultdict(Counts)
    overall = Counts()
    for item in labelled:
        counts = score(item, results[item.activity.external_id])
        by_case[item.case].add(counts)
        overall.add(counts)
    table = dict(sorted(by_case.items()))
    table["overall"] = overall
    return table


def missed_targets(overall: Counts) -> list[str]:
    """Return a sentence for each overall target the counts miss."""
    missed = []
    if (overall.precision or 0.0) < MIN_PRECISION:
        missed.append(
            f"confirmed precision {overall.precision:.4f} is below {MIN_PRECISION}"
        )
    if (overall.recall or 0.0) < MIN_RECALL:
        missed.append(f"recall {overall.recall:.4f} is below {MIN_RECALL}")
    if (overall.review_share or 0.0) > MAX_REVIEW_SHARE:
        missed.append(
            f"review share {overall.review_share:.4f} is above {MAX_REVIEW_SHARE}"
        )
    return missed


def format_table(table: dict[str, Counts]) -> str:
    header = (
        f"{'kind':<24} {'acts':>5} {'true':>5} {'conf':>5} {'prec':>6} {'over':>4} "
        f"{'recall':>6} {'review':>6} {'person':>6} {'false rev':>9}"
    )
    lines = [header, "-" * len(header)]
    for case, counts in table.items():
        if case == "overall":
            lines.append("-" * len(header))
        lines.append(
            f"{case:<24} {counts.activities:>5} {counts.true_links:>5} "
            f"{counts.confirmed:>5} {_ratio(counts.precision):>6} "
            f"{counts.over_confirmed:>4} {_ratio(counts.recall):>6} "
            f"{_ratio(counts.review_share):>6} {_ratio(counts.person_accuracy):>6} "
            f"{counts.false_review:>9}"
        )
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Score the matcher on the labelled set."
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help="folder of the labelled set"
    )
    arguments = parser.parse_args()
    table = evaluate(arguments.data)
    print(format_table(table))
    missed = missed_targets(table["overall"])
    for sentence in missed:
        print(f"target missed: {sentence}")
    if not missed:
        print(
            f"targets met: precision >= {MIN_PRECISION}, recall >= {MIN_RECALL}, "
            f"review share <= {MAX_REVIEW_SHARE}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
