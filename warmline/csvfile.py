"""CSV input shared by the source, staff and referral imports."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from pathlib import Path


class CsvInputError(ValueError):
    """A CSV file or one of its rows is invalid; the message names both."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


def normalize_header(name: str) -> str:
    """Lower-case a header and fold spaces, hyphens and brackets to '_'."""
    folded = re.sub(r"[^0-9a-z]+", "_", name.strip().lower())
    return folded.strip("_")


def read_rows(
    path: Path,
    aliases: Mapping[str, str],
    required: tuple[str, ...],
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with headers mapped to canonical column names.

    `aliases` maps normalized header variants ("e_mail_address") to a column
    name ("emails").  Unknown columns raise, so a misspelt header is not
    silently ignored.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CsvInputError(
            path, None, f"cannot be opened ({error.strerror})"
        ) from error
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise CsvInputError(
                path, 1, "the file is empty; expected a header row"
            ) from None
        except UnicodeDecodeError as error:
            raise CsvInputError(
                path, 1, "is not UTF-8; save it as CSV UTF-8"
            ) from error
        columns = _map_header(path, header, aliases, required)
        yield from _rows(path, reader, columns)


def _map_header(
    path: Path, header: list[str], aliases: Mapping[str, str], required: tuple[str, ...]
) -> list[str]:
    columns = []
    for raw in header:
        key = normalize_header(raw)
        column = aliases.get(key)
        if column is None:
            known = ", ".join(sorted(set(aliases.values())))
            raise CsvInputError(
                path, 1, f"unknown column {raw!r}; expected columns: {known}"
            )
        if column in columns:
            raise CsvInputError(path, 1, f"column {column!r} appears twice")
        columns.append(column)
    missing = [name for name in required if name not in columns]
    if missing:
        raise CsvInputError(
            path, 1, f"missing required column(s): {', '.join(missing)}"
        )
    return columns


def _rows(
    path: Path, reader: Iterator[list[str]], columns: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    line = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            raise CsvInputError(path, line, f"cannot be read: {error}") from error
        start = line
        line = reader.line_num + 1  # type: ignore[attr-defined]
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(columns):
            raise CsvInputError(
                path,
                start,
                f"has {len(values)} fields but the header has {len(columns)}",
            )
        row = {column: "" for column in columns}
        row.update({c: v.strip() for c, v in zip(columns, values, strict=False)})
        yield start, row


def split_list(value: str) -> list[str]:
    """Split a ';'-separated cell (',' accepted too) into trimmed parts."""
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
