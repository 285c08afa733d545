"""The README's promises: its command list is generated from the command table and
current, and its two set-up commands are the ones CI and users run."""

from __future__ import annotations

from pathlib import Path

from respd import docs

ROOT = Path(__file__).resolve().parent.parent


def test_command_list_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.splice(readme) == readme, "run: python -m respd.docs --write README.md"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    setup = [line for line in readme.splitlines()
             if "# the server" in line or "# the tests" in line]
    assert len(setup) == 2  # the two set-up commands, in a virtual environment
    assert setup[0].startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[test]'")
    assert ".venv/bin/respd     # the server, on 127.0.0.1:6379" in setup[0]
    assert setup[1].startswith(".venv/bin/python -m pytest ")
    assert ".venv/bin/python -m pytest" in ci
    assert "python3 -m venv .venv" in ci and "-e '.[test" in ci
    assert "RESPD_REQUIRE_REFERENCE=1" in ci
