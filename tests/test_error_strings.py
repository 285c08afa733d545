"""Error lines live in respd/errors.py: no command or storage module spells one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# An error code at the start of a Python string literal: "ERR ...", b"WRONGTYPE ...".
LITERAL = re.compile(r"""\bb?["'](ERR|WRONGTYPE|NOGROUP|BUSYGROUP|NOSCRIPT|EXECABORT|NOAUTH)\s""")


def test_no_error_literals_outside_errors_module() -> None:
    offenders = []
    for folder in ("commands", "storage", "respd"):
        for path in sorted((ROOT / folder).glob("*.py")):
            if path.name in ("errors.py", "scripting.py"):  # scripting.py embeds Lua source
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if LITERAL.search(line) and "startswith" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
