"""Display-name parsing and name comparison."""

from __future__ import annotations

import csv
import json

import pytest

from matcher import compare_names, parse_person_name
from matcher.names import (
    PersonName,
    clean_display_name,
    fold_keeping_case,
    given_names_may_agree,
    given_names_related,
    name_from_parts,
    parse_local_part,
    split_simple_name,
    split_with_nameparser,
    typo_keys,
)
from matcher.text import fold
from tests.matcher.factories import DATA


def parsed(display: str) -> PersonName:
    name = parse_person_name(display)
    assert name is not None, f"{display!r} gave no name"
    return name


# Display-name shapes from real headers that split first and last names
# wrongly when read naively: (display name, first, last).
@pytest.mark.parametrize(
    ("display", "first", "last"),
    [
        ("Nguyen, Thao", "thao", "nguyen"),
        ("thao.nguyen", "thao", "nguyen"),
        ("Maria Elena Ruiz Soto, MD", "maria", "ruiz soto"),
        ("Patel, Anil:REFERRALS", "anil", "patel"),
        ("Patel, Anil : Referrals Team", "anil", "patel"),
        ("'Anil Patel' via Referrals", "anil", "patel"),
        ('"Anil Patel"', "anil", "patel"),
    ],
)
def test_display_name_shapes(display: str, first: str, last: str) -> None:
    name = parsed(display)

    assert name.first == first
    assert name.last == last
    assert name.raw == display


def test_display_name_keeps_every_token() -> None:
    name = parsed("Maria Elena Ruiz Soto, MD")

    assert name.middle == ("elena",)
    assert {"ruiz", "soto", "ruizsoto"} <= name.surnames
    assert name.credentials == ("md",)


@pytest.mark.parametrize(
    "display",
    [
        "ridgeway-frontdesk@ridgeway-ortho.example",
        "<anil.patel@cedar-im.example>",
        "",
        "   ",
        ":REFERRALS",
        "Anil",
    ],
)
def test_display_name_without_person(display: str) -> None:
    assert parse_person_name(display) is None


def test_group_tag_is_dropped() -> None:
    assert clean_display_name("Patel, Anil:REFERRALS") == "Patel, Anil"


def test_folded_accents_and_apostrophes() -> None:
    assert fold("Renée O’Brien") == "renee obrien"
    assert fold("Renee O'Brien") == "renee obrien"
    assert fold("José Núñez-O`Neil") == "jose nunez oneil"


def test_encoded_word_name_matches_plain_spelling() -> None:
    written = parsed("Renée O’Brien")
    known = parsed("Renee O'Brien")

    assert written.first == "renee"
    assert written.last == "obrien"
    assert compare_names(written, known) == 1.0


# (display name, first, middle, last, credentials, generation, has "Dr.")
@pytest.mark.parametrize(
    ("display", "first", "middle", "last", "credentials", "generation", "doctor"),
    [
        ("Dr. Anil Patel", "anil", (), "patel", (), "", True),
        ("Dr Anil Patel", "anil", (), "patel", (), "", True),
        ("Doctor Anil Patel", "anil", (), "patel", (), "", True),
        ("Anil Patel, M.D.", "anil", (), "patel", ("md",), "", False),
        ("Anil Patel MD PhD", "anil", (), "patel", ("md", "phd"), "", False),
        ("Kim Do, DO", "kim", (), "do", ("do",), "", False),
        ("Jane Doe, NP", "jane", (), "doe", ("np",), "", False),
        ("Jane Doe PA-C", "jane", (), "doe", ("pac",), "", False),
        ("Jane Doe, FNP-BC", "jane", (), "doe", ("fnpbc",), "", False),
        ("Amy Chen PT, DPT", "amy", (), "chen", ("pt", "dpt"), "", False),
        (
            "Sarah L. Smith CPNP, DNP",
            "sarah",
            ("l",),
            "smith",
            ("cpnp", "dnp"),
            "",
            False,
        ),
        ("Jennifer Lee, RN", "jennifer", (), "lee", ("rn",), "", False),
        ("John C. McNeil, Jr. MD", "john", ("c",), "mcneil", ("md",), "jr", False),
        ("Thomas Morrison III", "thomas", (), "morrison", (), "iii", False),
        ("Lopez, Maria L.", "maria", ("l",), "lopez", (), "", False),
        ("LOPEZ, MARIA L", "maria", ("l",), "lopez", (), "", False),
        ("Dr. J. Daniel Hanks, Jr.", "j", ("daniel",), "hanks", (), "jr", True),
        ("Dr. S.W. Clark", "s", ("w",), "clark", (), "", True),
        ("Renée O’Brien", "renee", (), "obrien", (), "", False),
        (
            "Margaret Hartnett-Goodman, MD",
            "margaret",
            (),
            "hartnett goodman",
            ("md",),
            "",
            False,
        ),
        ("DE LA TORRE,  MANUEL", "manuel", (), "de la torre", (), "", False),
        ("Dr. Patel", "", (), "patel", (), "", True),
        ("Wing Chang, MD", "wing", (), "chang", ("md",), "", False),
    ],
)
def test_name_normalization(
    display: str,
    first: str,
    middle: tuple[str, ...],
    last: str,
    credentials: tuple[str, ...],
    generation: str,
    doctor: bool,
) -> None:
    name = parsed(display)

    assert name.first == first
    assert name.middle == middle
    assert name.last == last
    assert name.credentials == credentials
    assert name.generation == generation
    assert name.has_doctor_title is doctor


def test_hyphenated_surname_has_each_part() -> None:
    name = parsed("Margaret Hartnett-Goodman, MD")

    assert name.surnames == {"hartnettgoodman", "hartnett", "goodman"}


def test_particles_are_not_surname_parts() -> None:
    name = parsed("Manuel de la Torre")

    assert name.surnames == {"delatorre", "torre"}


def test_nickname_in_brackets() -> None:
    name = parsed("Jennifer (Jen) Lee, RN")

    assert name.first == "jennifer"
    assert name.nickname == "jen"


@pytest.mark.parametrize(
    ("address", "first", "last"),
    [
        ("maria.lopez@riverside-fm.example", "maria", "lopez"),
        ("thao_nguyen@cedar-im.example", "thao", "nguyen"),
    ],
)
def test_dotted_local_part(address: str, first: str, last: str) -> None:
    name = parse_local_part(address)

    assert name is not None
    assert name.first == first
    assert name.last == last


@pytest.mark.parametrize(
    "address",
    ["frontdesk@ridgeway-ortho.example", "ridgeway-frontdesk@ridgeway-ortho.example"],
)
def test_role_local_part_has_no_name(address: str) -> None:
    assert parse_local_part(address) is None


@pytest.mark.parametrize(
    ("first", "other"),
    [
        ("bob", "robert"),
        ("robert", "bob"),
        ("liz", "elizabeth"),
        ("elizabeth", "liz"),
        ("peggy", "margaret"),
        ("bill", "william"),
        ("jen", "jennifer"),
    ],
)
def test_nicknames_related_both_ways(first: str, other: str) -> None:
    assert given_names_related(first, other)


@pytest.mark.parametrize(("first", "other"), [("liz", "beth"), ("maria", "anna")])
def test_unrelated_given_names(first: str, other: str) -> None:
    assert not given_names_related(first, other)


# (written, known, lowest and highest acceptable similarity)
@pytest.mark.parametrize(
    ("written", "known", "low", "high"),
    [
        ("Maria Lopez", "Maria L. Lopez, MD", 1.0, 1.0),
        ("Lopez, Maria", "Maria L. Lopez, MD", 1.0, 1.0),
        ("Dr. Maria Lopez", "Maria L. Lopez, MD", 1.0, 1.0),
        ("Bob Smith", "Robert J. Smith, MD", 0.9, 0.95),
        ("Robert Smith", "Bob Smith", 0.9, 0.95),
        ("Liz Hartnett-Goodman", "Elizabeth Hartnett-Goodman", 0.9, 0.95),
        ("Margaret Goodman", "Margaret Hartnett-Goodman, MD", 0.9, 0.95),
        ("Margaret Hartnett-Goodman", "Margaret Goodman", 0.9, 0.95),
        ("Maria Ruiz", "Maria Elena Ruiz Soto, MD", 0.9, 0.95),
        ("M. Lopez", "Maria L. Lopez, MD", 0.8, 0.9),
        ("Daniel Hanks", "Dr. J. Daniel Hanks", 0.85, 0.9),
        ("Dr. Lopez", "Maria L. Lopez, MD", 0.65, 0.75),
        ("Lopez Maria", "Maria L. Lopez, MD", 0.85, 0.95),
        ("Maria Lopes", "Maria L. Lopez, MD", 0.75, 0.9),
        ("Maria K. Lopez", "Maria L. Lopez, MD", 0.8, 0.9),
        ("John Smith Jr.", "John Smith Sr.", 0.6, 0.75),
        ("Ana Lopez", "Maria L. Lopez, MD", 0.0, 0.35),
        ("Maria Garcia", "Maria L. Lopez, MD", 0.0, 0.0),
    ],
)
def test_name_similarity(written: str, known: str, low: float, high: float) -> None:
    similarity = compare_names(parsed(written), parsed(known))

    assert low <= similarity <= high


def test_clinician_marks() -> None:
    assert parsed("Dr. Maria Lopez").is_clinician
    assert parsed("Maria Lopez, NP").is_clinician
    assert not parsed("Maria Lopez").is_clinician


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / "names" / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


# Real clinician names as donors typed them in Georgia campaign-finance
# filings (probablepeople, MIT).  The expected split is ours.
@pytest.mark.parametrize(
    "row",
    _rows("ga_campaign_finance_doctor_names.csv"),
    ids=lambda row: row["line"],
)
def test_real_doctor_names(row: dict[str, str]) -> None:
    name = parsed(row["name"])

    assert name.first == row["first"]
    assert " ".join(name.middle) == row["middle"]
    assert name.last == row["last"]
    assert " ".join(name.credentials) == row["credentials"]
    assert name.generation == row["generation"]
    assert name.has_doctor_title is (row["doctor"] == "yes")


NPI_PROVIDERS = [
    row for row in _rows("npi_registry_flat_subset.csv") if row["first_name"]
]


def _registry_name(row: dict[str, str]) -> str:
    """Write an NPI Registry row's name as a CSV import would store it."""
    parts = [row["first_name"], row["middle_name"], row["last_name"]]
    name = " ".join(part for part in parts if part)
    return f"{name}, {row['credential']}" if row["credential"] else name


@pytest.mark.parametrize("row", NPI_PROVIDERS, ids=lambda row: row["npi"])
def test_registry_names_parse(row: dict[str, str]) -> None:
    name = parsed(_registry_name(row))

    assert name.first == fold(row["first_name"])
    assert name.last == fold(row["last_name"])


@pytest.mark.parametrize("row", NPI_PROVIDERS, ids=lambda row: row["npi"])
def test_registry_names_match_display_forms(row: dict[str, str]) -> None:
    known = parsed(_registry_name(row))
    first = row["first_name"].title()
    last = row["last_name"].title()

    assert compare_names(parsed(f"{first} {last}"), known) == 1.0
    assert compare_names(parsed(f"{last.upper()}, {first.upper()}"), known) == 1.0
    assert compare_names(parsed(f"Dr. {first[0]}. {last}"), known) >= 0.8


def _display_names_to_check() -> list[str]:
    """Return real and generated display names, each once."""
    names = [row["name"] for row in _rows("ga_campaign_finance_doctor_names.csv")]
    names += [_registry_name(row) for row in NPI_PROVIDERS]
    evaluation = DATA.parent.parent / "evaluation" / "data"
    with (evaluation / "activities.jsonl").open(encoding="utf-8") as file:
        for line in file:
            for participant in json.loads(line)["participants"]:
                if participant.get("name"):
                    names.append(participant["name"])
    with (evaluation / "sources.jsonl").open(encoding="utf-8") as file:
        names += [json.loads(line)["name"] for line in file]
    names += [
        "Maria Lopez md",
        "Kim Do",
        "Kim Do, DO",
        "Jack MA",
        "Lopez, Maria MD",
        "Ed Cromworth",
        "Jonathan Le",
        "Dean Smith",
        "Van Nguyen",
        "Billing",
    ]
    return list(dict.fromkeys(names))


def test_fast_split_agrees_with_nameparser() -> None:
    checked = 0
    for display in _display_names_to_check():
        cleaned = clean_display_name(display)
        if cleaned is None:
            continue
        text = fold_keeping_case(cleaned)
        fast = split_simple_name(text)
        if fast is None:
            continue
        checked += 1

        slow = split_with_nameparser(text)

        assert name_from_parts(display, fast) == name_from_parts(display, slow), display
    assert checked > 2000


@pytest.mark.parametrize(
    "text", ["Mary (Jo) Smith", "Ana de la Cruz", "S.W. Clark", "Jo Ann & Lee Park"]
)
def test_fast_split_leaves_hard_shapes(text: str) -> None:
    assert split_simple_name(text) is None


def test_bar_suffix_is_dropped() -> None:
    assert clean_display_name("Ann Lee | Lakeside Medical Supply") == "Ann Lee"


@pytest.mark.parametrize(
    ("written", "known"),
    [
        ("Phulip Kang", "Philip Kang, MD"),
        ("Barbara Daois", "Barbara A. Davis, MD"),
        ("Richard Colins", "Richard M. Chadbury Collins, MD"),
        ("Kate Ibanez", "Catherine G. Ibanez, MD"),
    ],
)
def test_typo_and_spelling_variants_match(written: str, known: str) -> None:
    assert compare_names(parsed(written), parsed(known)) >= 0.7


@pytest.mark.parametrize(
    ("written", "known"),
    [("Jon Smith", "Joan Smith"), ("Ana Lopez", "Maria Lopez")],
)
def test_short_given_names_are_not_typos(written: str, known: str) -> None:
    assert compare_names(parsed(written), parsed(known)) < 0.5


def test_typo_keys_survive_one_slip() -> None:
    for written, known in [
        ("lopes", "lopez"),
        ("lpoez", "lopez"),
        ("kenendy", "kennedy"),
        ("bllackley", "blackley"),
    ]:
        assert set(typo_keys(written)) & set(typo_keys(known)), (written, known)


def test_given_names_may_agree_skips_other_names() -> None:
    assert given_names_may_agree(parsed("Bob Chen"), parsed("Robert Chen, DO"))
    assert given_names_may_agree(parsed("M. Lopez"), parsed("Maria Lopez"))
    assert not given_names_may_agree(parsed("Anna Chen"), parsed("Robert Chen, DO"))
