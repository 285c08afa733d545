"""respd.conf, the sample configuration, documents every directive of the config table
(respd/config.py) with its default, and loads as it stands."""

from __future__ import annotations

import re
from pathlib import Path

from respd.cli import build_config
from respd.config import PARAMS, Config

SAMPLE = Path(__file__).resolve().parent.parent / "respd.conf"


def directives() -> dict[str, str]:
    found = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            assert name not in found, f"{name} twice"
            found[name] = value
    return found


def test_every_directive_is_documented_once() -> None:
    assert set(directives()) == set(PARAMS)


def test_values_are_the_defaults_and_the_file_loads() -> None:
    defaults = Config()
    loaded = build_config([str(SAMPLE)])
    for name in PARAMS:
        assert loaded.get_raw(name) == defaults.get_raw(name), name
    assert loaded.config_file == str(SAMPLE)
    assert re.search(r"^save 3600 1 300 100 60 10000$", SAMPLE.read_text(), re.M)
