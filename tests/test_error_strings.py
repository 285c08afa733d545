"""Error lines live in respd/errors.py: no command or storage module spells one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# An error code at the start of a Python string literal: "ERR ...", b"WRONGTYPE ...".
LITERAL = re.compile(r"""\bb?["'](ERR|WRONGTYPE|NOGROUP|BUSYGROUP|NOSCRIPT|EXECABORT|NOAUTH)\s""")


# respd/scripting.py embeds Lua source whose errors Lua raises itself (as Redis's
# script_lua.c does); these lines are the only error text allowed there.
LUA_SOURCE_LINES = {
    "return {err = 'ERR wrong number or type of arguments'}",
    "if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end",
    "local function register_error(msg) lua_error({err = 'ERR ' .. msg}) end",
    "lua_error({err = 'ERR Script killed by user with SCRIPT KILL...'})",
    'line = code + b" " + msg if sep else b"ERR " + code',  # the ERR a bare code gets
}


def test_no_error_literals_outside_errors_module() -> None:
    offenders = []
    for folder in ("commands", "storage", "respd"):
        for path in sorted((ROOT / folder).glob("*.py")):
            if path.name == "errors.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not LITERAL.search(line) or "startswith" in line:
                    continue
                if path.name == "scripting.py" and line.strip() in LUA_SOURCE_LINES:
                    continue
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
