"""The settings table, its documentation and environment parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warmline.settings import SETTINGS, SettingError, load_settings, parse_setting

DOC = Path(__file__).parents[2] / "docs" / "settings.md"


def documented_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([a-z0-9_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_every_setting_documented():
    rows = documented_rows()

    assert sorted(rows) == sorted(setting.name for setting in SETTINGS)
    for setting in SETTINGS:
        scope, env_var, _default, unit, meaning = rows[setting.name]
        assert scope == setting.scope.value, setting.name
        assert env_var == (f"`{setting.env_var}`" if setting.env_var else "-")
        assert unit == setting.unit, setting.name
        assert meaning == setting.help, setting.name


def test_environment_overrides_default():
    settings = load_settings({"WARMLINE_BATCH_SIZE": "50"})

    assert settings.batch_size == 50
    assert settings.database_url == "sqlite:///warmline.db"


def test_invalid_environment_value_named():
    with pytest.raises(SettingError, match="WARMLINE_BATCH_SIZE='many'"):
        load_settings({"WARMLINE_BATCH_SIZE": "many"})


def test_unknown_setting_lists_known():
    with pytest.raises(SettingError, match="unknown setting 'colour'.*own_domains"):
        parse_setting("colour", "red")


def test_domain_list_parsed():
    assert parse_setting("own_domains", " Brookside-PT.example; bpt.example ;") == [
        "bpt.example",
        "brookside-pt.example",
    ]
