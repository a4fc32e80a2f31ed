"""The labelled evaluation set: coverage of its kinds and the matcher's targets."""

from __future__ import annotations

import collections
from pathlib import Path

from evaluation import evaluate, generate
from matcher import Link, Status
from tests.matcher.factories import inbound


def test_evaluation_meets_targets() -> None:
    table = evaluate.evaluate()

    overall = table["overall"]
    assert overall.precision is not None
    assert overall.recall is not None
    assert overall.review_share is not None
    assert overall.precision >= evaluate.MIN_PRECISION
    assert overall.recall >= evaluate.MIN_RECALL
    assert overall.review_share <= evaluate.MAX_REVIEW_SHARE
    assert evaluate.missed_targets(overall) == []


def test_evaluation_covers_every_kind() -> None:
    rows = evaluate.read_jsonl(evaluate.DATA / "activities.jsonl")
    sources = evaluate.read_jsonl(evaluate.DATA / "sources.jsonl")

    counts = collections.Counter(str(row["case"]) for row in rows)
    assert len(sources) >= 500
    assert len(rows) >= 3000
    for kind in generate.KIND_WEIGHTS:
        assert counts[kind] >= 50, f"{kind} has {counts[kind]} activities"


def test_generator_reproduces_committed_set(tmp_path: Path) -> None:
    world, activities = generate.generate(200, 4000, generate.SEED)

    generate.write(tmp_path, world, activities)

    for name in ("sources.jsonl", "activities.jsonl", "workspace.json"):
        written = (tmp_path / name).read_bytes()
        committed = (evaluate.DATA / name).read_bytes()
        assert written == committed, f"{name} differs; rerun evaluation/generate.py"


def _labelled(expected: dict[int, tuple[int | None, Status]]) -> evaluate.Labelled:
    return evaluate.Labelled(inbound("someone@gmail.com"), "case", expected)


def test_score_review_label_confirmed_is_over() -> None:
    item = _labelled({1: (2, Status.NEEDS_REVIEW)})

    counts = evaluate.score(item, (Link(1, 0.9, Status.CONFIRMED, (), 2),))

    assert counts.confirmed == 1
    assert counts.confirmed_right == 0
    assert counts.over_confirmed == 1
    assert counts.found == 1
    assert counts.person_right == 1


def test_score_review_label_found_in_review() -> None:
    item = _labelled({1: (None, Status.NEEDS_REVIEW)})

    counts = evaluate.score(item, (Link(1, 0.6, Status.NEEDS_REVIEW, ()),))

    assert counts.found == 1
    assert counts.found_in_review == 1
    assert counts.person_right == 1
    assert counts.confirmed == 0


def test_score_link_without_label() -> None:
    item = _labelled({})

    counts = evaluate.score(
        item,
        (Link(1, 0.9, Status.CONFIRMED, ()), Link(2, 0.6, Status.NEEDS_REVIEW, ())),
    )

    assert counts.true_links == 0
    assert counts.confirmed == 1
    assert counts.confirmed_right == 0
    assert counts.false_review == 1
