"""``python -m respd.docs``: the command table as a Markdown table for the README.

One row per command and subcommand (name, group, since, summary), straight from the
command table, so the README cannot drift from what the server implements.
"""

from __future__ import annotations

import sys

from respd.command import Command, walk


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cmd: Command) -> str:
    name = cmd.name.replace("|", " ").upper()
    return (f"| `{_cell(name)}` | {_cell(cmd.group)} | {_cell(cmd.since)} "
            f"| {_cell(cmd.summary)} |")


def render() -> str:
    import respd.commands  # noqa: F401  (fills the table)

    commands = sorted(walk(), key=lambda c: (c.group, c.name))
    lines = ["| command | group | since | summary |", "| --- | --- | --- | --- |"]
    lines.extend(_row(cmd) for cmd in commands)
    lines.append("")
    lines.append(f"{sum(1 for c in commands if c.container is None)} commands, "
                 f"{sum(1 for c in commands if c.container is not None)} subcommands.")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
