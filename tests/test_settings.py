"""Tests of recorder.settings: the one table of settings and the database path every command uses."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from recorder.settings import DEFAULTS, SETTINGS, Settings, db_path


def test_the_settings_defaults_are_the_tables() -> None:
    assert asdict(Settings()) == DEFAULTS
    assert [name for name, _, _ in SETTINGS] == list(asdict(Settings()))


def test_db_path_takes_the_flag_then_uxlab_db_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UXLAB_DB", raising=False)
    assert db_path(None) == db_path() == "uxlab.db"
    monkeypatch.setenv("UXLAB_DB", "from-env.db")
    assert db_path(None) == "from-env.db"
    assert db_path("given.db") == "given.db"
    monkeypatch.setenv("UXLAB_DB", "")  # set but empty: not given
    assert db_path(None) == "uxlab.db"
    assert Settings.from_env({"UXLAB_DB": ""}).db == db_path(None)
