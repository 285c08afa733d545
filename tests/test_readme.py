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
    assert "python3 -m pytest" in readme and "-m pytest" in ci
    assert "respd     # the server, on 127.0.0.1:6379" in readme
    assert "RESPD_REQUIRE_REFERENCE=1" in ci
