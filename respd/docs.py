"""``python -m respd.docs``: the command table as a Markdown table for the README.

One row per command and subcommand (name, group, since, summary), straight from the
command table, so the README cannot drift from what the server implements.
``python -m respd.docs --write README.md`` replaces the part of the file between the
``<!-- commands:start -->`` and ``<!-- commands:end -->`` markers (a test checks that
the README is current).
"""

from __future__ import annotations

import sys

from respd.command import Command, docs_group, walk


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cmd: Command) -> str:
    name = cmd.name.replace("|", " ").upper()
    return (f"| `{_cell(name)}` | {_cell(docs_group(cmd.group))} | {_cell(cmd.since)} "
            f"| {_cell(cmd.summary)} |")


def render() -> str:
    import respd.server  # noqa: F401  (its import of the command families fills the table)

    commands = sorted(walk(), key=lambda c: (c.group, c.name))
    lines = ["| command | group | since | summary |", "| --- | --- | --- | --- |"]
    lines.extend(_row(cmd) for cmd in commands)
    lines.append("")
    lines.append(f"{sum(1 for c in commands if c.container is None)} commands, "
                 f"{sum(1 for c in commands if c.container is not None)} subcommands.")
    return "\n".join(lines) + "\n"


START, END = "<!-- commands:start -->\n", "<!-- commands:end -->"


def splice(text: str) -> str:
    """``text`` with the generated table between the markers."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return head + START + render() + END + tail


def main() -> int:
    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        path = sys.argv[2]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(splice(text))
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
