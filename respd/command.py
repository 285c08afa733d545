"""The command table: one declaration per command, the single source of truth.

``@command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1), ...)`` registers a
handler together with everything that COMMAND INFO / DOCS / COUNT / LIST / GETKEYS
report and that dispatch checks (arity, write/readonly, noscript, MULTI and
subscribed-mode rules).  ``@command("CLIENT LIST", ...)`` registers a subcommand; the
container (``CLIENT``) is declared with ``container(...)``.

``syntax`` is the usage line as people read it; it is parsed once, lazily, into the
argument tree that COMMAND DOCS returns (and redis-cli turns into hints):
UPPER-case words are tokens, ``[ ]`` marks optional parts, ``( )`` groups, ``|``
separates alternatives, ``...`` repeats, and ``name:type`` gives an argument's type
(``key``, ``integer``, ``double``, ``pattern``, ``unix-time``; default ``string``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

# Flags in the order Redis prints them (server.c's command flag table).
FLAG_ORDER = (
    "write readonly denyoom module admin pubsub noscript blocking loading stale "
    "skip_monitor skip_slowlog asking fast no_auth may_replicate sentinel only_sentinel "
    "no_mandatory_keys protected module_getkeys no_async_loading no_multi movablekeys allow_busy"
).split()
_KNOWN_FLAGS = frozenset(FLAG_ORDER)

# ACL categories in Redis's bit order, which is the order COMMAND INFO lists them in.
ACL_ORDER = (
    "keyspace read write set sortedset list hash string bitmap hyperloglog geo stream "
    "pubsub admin fast slow blocking dangerous connection transaction scripting"
).split()

GROUP_CATEGORY = {
    "generic": "keyspace",
    "string": "string",
    "list": "list",
    "hash": "hash",
    "set": "set",
    "sorted_set": "sortedset",
    "stream": "stream",
    "pubsub": "pubsub",
    "connection": "connection",
    "transactions": "transaction",
    "scripting": "scripting",
}

Handler = Callable[..., Any]

# No upper bound on a command's arguments: more than any request within the query
# buffer limit can hold, and small enough for CPython's fast integer comparisons.
UNBOUNDED_ARGC = (1 << 30) - 1


@dataclass(eq=False)
class Command:
    name: str  # lower-case; "container|sub" for subcommands
    handler: Handler | None
    arity: int
    flags: tuple[str, ...]
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    getkeys: Callable[[list[bytes]], list[int]] | None = None
    group: str = "generic"
    since: str = "1.0.0"
    summary: str = ""
    complexity: str = ""
    syntax: str = ""
    acl: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()
    tips: tuple[str, ...] = ()
    subcommands: dict[bytes, "Command"] = field(default_factory=dict)
    container: "Command | None" = None
    # Derived once so dispatch tests plain attributes, never sets of strings.
    is_write: bool = False
    is_readonly: bool = False
    denyoom: bool = False
    noscript: bool = False
    no_auth: bool = False
    blocking: bool = False
    allowed_when_subscribed: bool = False
    no_multi: bool = False
    # Declared (``@command(..., plain=True)``) by a command that cannot change the state
    # dispatch checks before running a command (authentication, MULTI, subscriptions,
    # pause, blocking, reply mode): dispatch.run_batch runs it inline while that state
    # is plain.
    plain: bool = False
    # The argument counts (argv[0] included) arity allows, Redis's rule derived once:
    # ``cmd.min_argc <= len(argv) <= cmd.max_argc`` is the arity check everywhere.
    min_argc: int = 0
    max_argc: int = 0
    # Position in ALL_COMMANDS: each server keeps its INFO commandstats counters in a list
    # indexed by it, so counting a call costs no dict lookup.
    stat_index: int = -1
    _docs_args: list[Any] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.flags) - _KNOWN_FLAGS
        if unknown:
            raise ValueError(f"{self.name}: unknown flags {sorted(unknown)}")
        self.is_write = "write" in self.flags
        self.is_readonly = "readonly" in self.flags
        self.denyoom = "denyoom" in self.flags
        self.noscript = "noscript" in self.flags
        self.no_auth = "no_auth" in self.flags
        self.blocking = "blocking" in self.flags
        self.no_multi = "no_multi" in self.flags
        if self.plain and (self.handler is None or "|" in self.name or self.blocking):
            raise ValueError(f"{self.name}: a plain command is a top-level, non-blocking one")
        # arity N > 0: exactly N arguments; -N: at least N.
        self.min_argc = abs(self.arity)
        self.max_argc = self.arity if self.arity > 0 else UNBOUNDED_ARGC

    def printed_flags(self) -> list[str]:
        flags = set(self.flags)
        if self.getkeys is not None:
            flags.add("movablekeys")
        flags.discard("may_replicate")  # Redis hides it from COMMAND INFO on purpose
        return [f for f in FLAG_ORDER if f in flags]

    def acl_categories(self) -> list[str]:
        cats = set(self.acl)
        if self.handler is None and not cats:
            return ["slow"]  # containers
        flags = set(self.flags)
        if "write" in flags:
            cats.add("write")
        if "readonly" in flags and "scripting" not in cats:
            cats.add("read")
        if "admin" in flags:
            cats.update(("admin", "dangerous"))
        if "pubsub" in flags:
            cats.add("pubsub")
        if "fast" in flags:
            cats.add("fast")
        if "blocking" in flags:
            cats.add("blocking")
        if "fast" not in flags:
            cats.add("slow")
        return [c for c in ACL_ORDER if c in cats]

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments in argv (COMMAND GETKEYS, WATCH-like uses)."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))

    def docs_arguments(self) -> list[Any]:
        if self._docs_args is None:
            self._docs_args = parse_syntax(self.syntax)
        return self._docs_args


# --- the registry ------------------------------------------------------------------------

COMMANDS: dict[bytes, Command] = {}
ALL_COMMANDS: list[Command] = []  # every registered command and subcommand


def _parse_flags(flags: str) -> tuple[str, ...]:
    return tuple(flags.split())


def _register(cmd: Command) -> Command:
    if "|" in cmd.name:
        parent_name, sub = cmd.name.split("|", 1)
        parent = COMMANDS.get(parent_name.encode())
        if parent is None:
            raise ValueError(f"declare container {parent_name!r} before {cmd.name!r}")
        if sub.encode() in parent.subcommands:
            raise ValueError(f"{cmd.name} declared twice")
        cmd.container = parent
        parent.subcommands[sub.encode()] = cmd
    else:
        if cmd.name.encode() in COMMANDS:
            raise ValueError(f"{cmd.name} declared twice")
        COMMANDS[cmd.name.encode()] = cmd
    cmd.stat_index = len(ALL_COMMANDS)
    ALL_COMMANDS.append(cmd)
    return cmd


def command(
    name: str,
    *,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    getkeys: Callable[[list[bytes]], list[int]] | None = None,
    group: str = "generic",
    since: str = "1.0.0",
    summary: str = "",
    complexity: str = "O(1)",
    syntax: str = "",
    acl: str | None = None,
    history: tuple[tuple[str, str], ...] = (),
    tips: str = "",
    plain: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``name`` ("GET", "CLIENT LIST").

    ``acl`` names extra ACL categories; by default the group's category is used.
    ``plain=True`` lets dispatch run the command inline (see ``Command.plain``): only for
    commands that read and write keys and touch no client or server state."""

    def decorate(fn: Handler) -> Handler:
        first, last, step = keys
        categories = tuple(acl.split()) if acl is not None else _default_acl(group)
        _register(
            Command(
                name=name.lower().replace(" ", "|"),
                handler=fn,
                arity=arity,
                flags=_parse_flags(flags),
                first_key=first,
                last_key=last,
                key_step=step,
                getkeys=getkeys,
                group=group,
                since=since,
                summary=summary,
                complexity=complexity,
                syntax=syntax,
                acl=categories,
                history=history,
                tips=tuple(tips.split()),
                plain=plain,
            )
        )
        return fn

    return decorate


def _default_acl(group: str) -> tuple[str, ...]:
    cat = GROUP_CATEGORY.get(group)
    return (cat,) if cat else ()


def container(name: str, *, group: str, since: str, summary: str) -> Command:
    """Declare a command that only has subcommands (CLIENT, CONFIG, XGROUP, ...)."""
    return _register(
        Command(
            name=name.lower(),
            handler=None,
            arity=-2,
            flags=(),
            group=group,
            since=since,
            summary=summary,
            complexity="Depends on subcommand.",
        )
    )


# Plain commands by the spelling clients send (usually upper case), so a lookup skips
# bytes.lower(); filled by lookup, capped so odd mixed-case spellings cannot grow it.
_BY_SPELLING: dict[bytes, Command] = {}
_SPELLINGS_MAX = 4096


def lookup(argv: list[bytes]) -> Command | None:
    """The command argv names, as Redis's lookupCommand: for a container, argv[1] names
    the subcommand (None when it has no such one; the container itself when argv has no
    second word).  Case-insensitive.  The one lookup: dispatch, COMMAND GETKEYS and
    COMMAND INFO/DOCS (``lookup_fullname``) all go through it."""
    name = argv[0]
    cmd = _BY_SPELLING.get(name)
    if cmd is not None:
        return cmd
    cmd = COMMANDS.get(name.lower())
    if cmd is None:
        return None
    if not cmd.subcommands:
        if len(_BY_SPELLING) < _SPELLINGS_MAX:
            _BY_SPELLING[name] = cmd
        return cmd
    if len(argv) == 1:
        return cmd
    return cmd.subcommands.get(argv[1].lower())


# --- syntax line → COMMAND DOCS argument tree -------------------------------------------

_TOKEN_RE = re.compile(r"\[|\]|\(|\)|\||\.\.\.|[^\s\[\]()|]+")


class SyntaxDeclError(ValueError):
    pass


def parse_syntax(text: str) -> list[dict[str, Any]]:
    tokens = _TOKEN_RE.findall(text)
    pos = 0

    def parse_seq(closer: str | None) -> list[list[dict[str, Any]]]:
        """A sequence of items, split into alternatives by '|'."""
        nonlocal pos
        alternatives: list[list[dict[str, Any]]] = [[]]
        while pos < len(tokens):
            tok = tokens[pos]
            if tok == closer:
                pos += 1
                return alternatives
            pos += 1
            if tok in ("[", "("):
                inner = parse_seq("]" if tok == "[" else ")")
                item = _group(inner, optional=tok == "[")
            elif tok == "|":
                alternatives.append([])
                continue
            elif tok == "...":
                if not alternatives[-1]:
                    raise SyntaxDeclError(f"'...' with nothing before it in {text!r}")
                _add_flag(alternatives[-1][-1], "multiple")
                continue
            elif tok in ("]", ")"):
                raise SyntaxDeclError(f"unbalanced {tok!r} in {text!r}")
            else:
                item = _word(tok)
            alternatives[-1].append(item)
        if closer is not None:
            raise SyntaxDeclError(f"missing {closer!r} in {text!r}")
        return alternatives

    top = parse_seq(None)
    if len(top) != 1:
        return [_group(top, optional=False)]
    return _merge_tokens(top[0])


def _add_flag(item: dict[str, Any], flag: str) -> None:
    item.setdefault("flags", [])
    if flag not in item["flags"]:
        item["flags"].append(flag)


ARG_TYPES = frozenset({"string", "integer", "double", "key", "pattern", "unix-time"})


def _word(tok: str) -> dict[str, Any]:
    name, _, kind = tok.rpartition(":")
    if name and kind in ARG_TYPES:  # "count:integer"; "ip:port" stays a plain name
        return {"name": name, "type": kind}
    if tok.isupper() or (tok[:1].isupper() and not any(c.islower() for c in tok)):
        return {"name": tok.lower(), "type": "pure-token", "token": tok}
    if tok == "key":
        return {"name": tok, "type": "key"}
    return {"name": tok, "type": "string"}


def _merge_tokens(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """'EX seconds' reads as one argument with a token, as Redis's docs declare it."""
    merged: list[dict[str, Any]] = []
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if (
            item["type"] == "pure-token"
            and "flags" not in item
            and nxt is not None
            and nxt["type"] not in ("pure-token", "oneof", "block")
            and len(items) == 2
        ):
            merged.append({**nxt, "token": item["token"]})
            i += 2
            continue
        merged.append(item)
        i += 1
    return merged


def _group(alternatives: list[list[dict[str, Any]]], optional: bool) -> dict[str, Any]:
    if len(alternatives) > 1:
        options = []
        for alt in alternatives:
            alt = _merge_tokens(alt)
            options.append(alt[0] if len(alt) == 1 else _block(alt))
        item: dict[str, Any] = {
            "name": "_".join(o["name"] for o in options)[:40] or "choice",
            "type": "oneof",
            "arguments": options,
        }
    else:
        seq = _merge_tokens(alternatives[0])
        if len(seq) == 1:
            item = dict(seq[0])
        else:
            item = _block(seq)
    if optional:
        _add_flag(item, "optional")
    return item


def _block(seq: list[dict[str, Any]]) -> dict[str, Any]:
    if seq and seq[0]["type"] == "pure-token" and "flags" not in seq[0]:
        return {
            "name": seq[0]["name"],
            "type": "block",
            "token": seq[0]["token"],
            "arguments": seq[1:],
        }
    return {"name": "_".join(s["name"] for s in seq)[:40], "type": "block", "arguments": seq}


# --- COMMAND INFO / DOCS replies --------------------------------------------------------
# Built here, next to the table they describe; respd.commands.server only routes.


def lookup_fullname(name: bytes) -> Command | None:
    """A command by the name COMMAND INFO/DOCS take: "get", "client|list" (Redis's
    lookupCommandBySds: "get|x" and "a|b|c" name nothing)."""
    words = name.split(b"|")
    cmd = lookup(words)
    if cmd is None or len(words) == 1 or (len(words) == 2 and cmd.container is not None):
        return cmd
    return None


def walk() -> list[Command]:
    """Every command, each container followed by its subcommands (COMMAND LIST order)."""
    found = []
    for cmd in COMMANDS.values():
        found.append(cmd)
        found.extend(cmd.subcommands.values())
    return found


def key_access_flags(cmd: Command) -> list[str]:
    """The key-spec flags respd reports: read-write or read-only, plus the access kind."""
    if cmd.is_write:
        return ["RW", "access"] if cmd.is_readonly else ["RW", "update"]
    return ["RO", "access"]


def key_specs(cmd: Command) -> list[Any]:
    """One key spec derived from (first, last, step), or an 'unknown' spec for commands
    whose keys are found by a function (movablekeys)."""
    from respd.resp import AttrSet, Map, Status

    flags = AttrSet(Status(f.encode()) for f in key_access_flags(cmd))
    if cmd.getkeys is not None:
        return [Map({b"flags": flags,
                     b"begin_search": Map({b"type": b"unknown", b"spec": Map()}),
                     b"find_keys": Map({b"type": b"unknown", b"spec": Map()})})]
    if cmd.first_key <= 0:
        return []
    last = cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key
    return [Map({
        b"flags": flags,
        b"begin_search": Map({b"type": b"index", b"spec": Map({b"index": cmd.first_key})}),
        b"find_keys": Map({b"type": b"range", b"spec": Map(
            {b"lastkey": last, b"keystep": cmd.key_step, b"limit": 0})}),
    })]


def info_entry(cmd: Command) -> list[Any]:
    """COMMAND INFO's 10 fields: name, arity, flags, first/last/step, ACL categories,
    tips, key specs, subcommands."""
    from respd.resp import AttrSet, Status

    return [
        cmd.name.encode(),
        cmd.arity,
        AttrSet(Status(f.encode()) for f in cmd.printed_flags()),
        cmd.first_key,
        cmd.last_key,
        cmd.key_step,
        AttrSet(Status(b"@" + c.encode()) for c in cmd.acl_categories()),
        AttrSet(t.encode() for t in cmd.tips),
        AttrSet(key_specs(cmd)),  # RESP3 sets, as Redis sends them
        AttrSet(info_entry(sub) for sub in cmd.subcommands.values()),
    ]


def _docs_argument(arg: dict[str, Any], key_index: int) -> Any:
    """One argument map, fields in the order Redis writes them."""
    from respd.resp import AttrSet, Map, Status

    out = Map({b"name": arg["name"].encode(), b"type": arg["type"].encode()})
    if arg["type"] == "key" and key_index >= 0:
        out[b"key_spec_index"] = key_index
    if "token" in arg:
        out[b"token"] = arg["token"].encode()
    if arg.get("flags"):
        out[b"flags"] = AttrSet(Status(f.encode()) for f in arg["flags"])
    if "arguments" in arg:
        out[b"arguments"] = [_docs_argument(a, key_index) for a in arg["arguments"]]
    return out


def docs_group(group: str) -> str:
    """The group as COMMAND DOCS spells it ("sorted_set" is "sorted-set")."""
    return group.replace("_", "-")


def docs_entry(cmd: Command) -> Any:
    """COMMAND DOCS's map for one command (redis-cli builds its hints from it)."""
    from respd.resp import AttrSet, Map

    out = Map({
        b"summary": cmd.summary.encode(),
        b"since": cmd.since.encode(),
        b"group": docs_group(cmd.group).encode(),
    })
    if cmd.complexity:  # a few commands (MONITOR) document none
        out[b"complexity"] = cmd.complexity.encode()
    if cmd.history:
        out[b"history"] = AttrSet([v.encode(), text.encode()] for v, text in cmd.history)
    arguments = cmd.docs_arguments()
    if arguments:
        key_index = 0 if key_specs(cmd) else -1
        out[b"arguments"] = [_docs_argument(a, key_index) for a in arguments]
    if cmd.subcommands:
        out[b"subcommands"] = Map(
            {sub.name.encode(): docs_entry(sub) for sub in cmd.subcommands.values()})
    return out


def help_reply(container_name: str, lines: tuple[str, ...]) -> list[Any]:
    """addReplyHelp: Redis's header, the subcommand lines, and the HELP footer."""
    from respd.resp import Status

    text = (f"{container_name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            *lines, "HELP", "    Prints this help.")
    return [Status(line.encode()) for line in text]
