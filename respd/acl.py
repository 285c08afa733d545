"""Access control lists: users, their rules, the permission check and the ACL log, as
Redis 7.0 defines them (acl.c).

A ``User`` has flags (on/off, nopass, sanitize-payload), SHA-256 password hashes and a
list of ``Selector``s: the first is the root selector (the rules given outside
parentheses), the others come from ``(...)`` rules.  A command is allowed when any
selector allows the command itself, every key it names (with the read/write access the
command needs on that key) and every channel it publishes or subscribes to.

Commands are identified by ``Command.stat_index`` (one id per command and subcommand,
as Redis's command ids); the categories are the command table's own
(``Command.acl_categories``), the key positions its ``key_positions`` (COMMAND
GETKEYS), and the read/write access per key comes from ``respd.acl_keys``.

Dispatch only calls ``check`` for clients whose user is *restricted* (``client.
acl_restricted``, computed when the client's user is set or changed): the default user
with every permission costs nothing per command.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from respd import errors
from respd.acl_keys import key_references
from respd.client import client_info_line, kill_client
from respd.command import ACL_ORDER, ALL_COMMANDS, COMMANDS, Command
from respd.config import Config, on_config_set
from respd.errors import ConfigError, ReplyError
from respd.glob import compile_pattern

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

log = logging.getLogger("respd")

# Key permissions of a pattern (%R~, %W~, %RW~ / ~) and needed by a key.
READ, WRITE = 1, 2
ALL_PERMS = READ | WRITE

# Why a check failed, ordered as Redis orders them when picking which error to report.
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_AUTH: b"auth",
           DENIED_CHANNEL: b"channel"}
CTX_TOPLEVEL, CTX_LUA, CTX_MULTI = b"toplevel", b"lua", b"multi"
_ALLOWED, _DENIED_CMD = (OK, 0), (DENIED_CMD, 0)

# User flags in the order ACL LIST / GETUSER print them.
FLAG_ON, FLAG_OFF, FLAG_NOPASS, FLAG_SKIP_SANITIZE, FLAG_SANITIZE = 1, 2, 4, 8, 16
_FLAG_NAMES = ((FLAG_ON, b"on"), (FLAG_OFF, b"off"), (FLAG_NOPASS, b"nopass"),
               (FLAG_SKIP_SANITIZE, b"skip-sanitize-payload"),
               (FLAG_SANITIZE, b"sanitize-payload"))

# ACLSetUser's error kinds (errno in Redis) and their texts.
E_SYNTAX = "Syntax error"
E_UNKNOWN = "Unknown command or category name in ACL"
E_KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not "
                    "valid and does not have any effect. Try 'resetkeys' to start with an "
                    "empty list of patterns")
E_CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) "
                        "is not valid and does not have any effect. Try 'resetchannels' to "
                        "start with an empty list of channels")
E_NO_SUCH_PASS = "The password you are trying to remove from the user does not exist"
E_BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
              "hexadecimal characters")
E_FIRSTARG_OF_SUB = "Allowing first-arg of a subcommand is not supported"


class RuleError(Exception):
    """A rule ACLSetUser refuses; ``reason`` is one of the E_* texts."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_password(password: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode()


def _is_hash(text: bytes) -> bool:
    return len(text) == 64 and all(c in b"0123456789abcdef" for c in text)


def has_spaces(text: bytes) -> bool:
    """ACLStringHasSpaces: isspace() characters or NUL."""
    return any(c in b" \t\n\v\f\r\x00" for c in text)


# --- the command table as ACLs see it ----------------------------------------------------

class _Table:
    """Category membership and the command tree, computed once from the command table."""

    def __init__(self) -> None:
        self.by_category: dict[str, list[Command]] = {c: [] for c in ACL_ORDER}
        self.category_of: dict[int, frozenset[str]] = {}
        for cmd in ALL_COMMANDS:
            cats = frozenset(cmd.acl_categories())
            self.category_of[cmd.stat_index] = cats
            for cat in cats:
                if cat in self.by_category:
                    self.by_category[cat].append(cmd)
        self.all_ids = frozenset(cmd.stat_index for cmd in ALL_COMMANDS)
        # Commands whose arguments name keys (a shard channel is not a key) or channels.
        self.keyed = frozenset(cmd.stat_index for cmd in ALL_COMMANDS
                               if (cmd.first_key > 0 or cmd.getkeys is not None)
                               and cmd.group != "pubsub")
        self.channeled = frozenset(cmd.stat_index for cmd in ALL_COMMANDS
                                   if cmd.name in _CHANNEL_COMMANDS)

    def tree(self) -> Iterable[Command]:
        """Top-level commands, each followed by its subcommands (ACL CAT's order)."""
        for cmd in COMMANDS.values():
            yield cmd
            yield from cmd.subcommands.values()


_table: _Table | None = None


def table() -> _Table:
    global _table
    if _table is None:  # the command table is full by then: respd.server fills it
        _table = _Table()
    return _table


def lookup_command(name: bytes) -> Command | None:
    """ACLLookupCommand: "get" or "config|get", strictly (no extra parts)."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0])
    if cmd is None:
        return None
    if len(parts) == 1:
        return cmd
    if not cmd.subcommands:
        return None
    return cmd.subcommands.get(parts[1])


# --- selectors -----------------------------------------------------------------------------

def _matcher(pattern: bytes) -> Callable[[bytes], bool]:
    if pattern and pattern.strip(b"*") == b"":
        return lambda subject: True  # stringmatchlen: '*' also matches the empty string
    return compile_pattern(pattern)


class KeyPattern:
    __slots__ = ("pattern", "perms", "match")

    def __init__(self, pattern: bytes, perms: int) -> None:
        self.pattern = pattern
        self.perms = perms
        self.match = _matcher(pattern)

    def describe(self) -> bytes:
        prefix = {ALL_PERMS: b"~", READ: b"%R~", WRITE: b"%W~"}[self.perms]
        return prefix + self.pattern


class Selector:
    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "future", "allowed",
                 "firstargs", "keys", "channels", "_channel_matchers")

    def __init__(self, root: bool = False, allchannels: bool = False) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.future = False  # +@all also allows commands added later (Redis's reserved bit)
        self.allowed: set[int] = set()
        self.firstargs: dict[int, list[bytes]] = {}
        self.keys: list[KeyPattern] = []
        self.channels: list[bytes] = []
        self._channel_matchers: dict[bytes, Callable[[bytes], bool]] = {}

    def copy(self) -> "Selector":
        new = Selector(self.root, self.allchannels)
        new.allkeys = self.allkeys
        new.allcommands = self.allcommands
        new.future = self.future
        new.allowed = set(self.allowed)
        new.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        new.keys = [KeyPattern(k.pattern, k.perms) for k in self.keys]
        new.channels = list(self.channels)
        return new

    @property
    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # ACLChangeSelectorPerm: a container takes its subcommands with it.
    def set_command(self, cmd: Command, allow: bool) -> None:
        self._set_bit(cmd.stat_index, allow)
        self.firstargs.pop(cmd.stat_index, None)
        for sub in cmd.subcommands.values():
            self._set_bit(sub.stat_index, allow)

    def _set_bit(self, ident: int, allow: bool) -> None:
        if allow:
            self.allowed.add(ident)
        else:
            self.allowed.discard(ident)
            self.allcommands = False

    def set_category(self, category: str, allow: bool) -> None:
        tab = table()
        for cmd in tab.tree():
            if category in tab.category_of[cmd.stat_index]:
                self.set_command(cmd, allow)

    def apply(self, op: bytes) -> None:
        """ACLSetSelector: one rule; raises RuleError."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.keys.clear()
        elif low == b"resetkeys":
            self.allkeys = False
            self.keys.clear()
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels.clear()
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels.clear()
        elif low in (b"allcommands", b"+@all"):
            self.allowed = set(table().all_ids)
            self.allcommands = self.future = True
            self.firstargs.clear()
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.allcommands = self.future = False
            self.firstargs.clear()
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(E_CHANNELS_AFTER_ALL)
            if has_spaces(op[1:]):
                raise RuleError(E_SYNTAX)
            if op[1:] not in self.channels:
                self.channels.append(op[1:])
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup_command(op[1:])
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self.set_command(cmd, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            category = op[2:].lower().decode("latin-1")
            if category not in ACL_ORDER:
                raise RuleError(E_UNKNOWN)
            self.set_category(category, op[:1] == b"+")
        else:
            raise RuleError(E_SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError(E_KEYS_AFTER_ALL)
        perms = 0
        offset = 1
        if op[:1] == b"%":
            while offset < len(op):
                c = op[offset:offset + 1].upper()
                if c == b"R" and not perms & READ:
                    perms |= READ
                elif c == b"W" and not perms & WRITE:
                    perms |= WRITE
                elif c == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(E_SYNTAX)
                offset += 1
        else:
            perms = ALL_PERMS
        pattern = op[offset:]
        if not perms or has_spaces(pattern):  # '%~x' (no permission at all) is refused
            raise RuleError(E_SYNTAX)
        for existing in self.keys:
            if existing.pattern == pattern:
                existing.perms |= perms
                break
        else:
            self.keys.append(KeyPattern(pattern, perms))
        self.allkeys = False

    def _allow_command(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = lookup_command(name)
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self.set_command(cmd, True)
            return
        base, _, first = name.rpartition(b"|")
        cmd = lookup_command(base)
        if cmd is None:
            raise RuleError(E_UNKNOWN)
        if cmd.container is not None:
            raise RuleError(E_FIRSTARG_OF_SUB)
        if not first:
            raise RuleError(E_SYNTAX)
        if cmd.subcommands:
            sub = lookup_command(name)
            if sub is None:
                raise RuleError(E_UNKNOWN)
            self.set_command(sub, True)
            return
        # A first argument of a command without subcommands (SELECT|0): deprecated in
        # Redis but still accepted.
        allowed = self.firstargs.setdefault(cmd.stat_index, [])
        if first.lower() not in (a.lower() for a in allowed):
            allowed.append(first)

    # --- checks ------------------------------------------------------------------------

    def check(self, cmd: Command, argv: list[bytes], key_cache: list[Any]) -> tuple[int, int]:
        """ACLSelectorCheckCmd: (OK or the denial, the position of the denied argument).
        ``key_cache`` keeps the key references found for the first selector."""
        ident = cmd.stat_index
        if not self.allcommands and ident not in self.allowed and not cmd.no_auth:
            firsts = self.firstargs.get(ident)
            if len(argv) < 2 or not firsts:
                return _DENIED_CMD
            arg = argv[2 if cmd.container is not None else 1].lower()
            if not any(arg == f.lower() for f in firsts):
                return _DENIED_CMD
        tab = _table or table()
        if not self.allkeys and ident in tab.keyed:
            if not key_cache:
                key_cache.append(key_references(cmd, argv))
            patterns = self.keys
            for pos, needed in key_cache[0]:
                key = argv[pos]
                for pat in patterns:
                    if pat.perms & needed == needed and pat.match(key):
                        break
                else:
                    return DENIED_KEY, pos
        if not self.allchannels and ident in tab.channeled:
            is_pattern = cmd.name == "psubscribe"
            for pos in channel_references(cmd, argv):
                if not self.channel_allowed(argv[pos], is_pattern):
                    return DENIED_CHANNEL, pos
        return _ALLOWED

    def key_allowed(self, key: bytes, needed: int) -> bool:
        if self.allkeys:
            return True
        for pat in self.keys:
            if pat.perms & needed == needed and pat.match(key):
                return True
        return False

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        """A PSUBSCRIBE pattern must equal one of the user's patterns; a channel name
        is matched against them."""
        if self.allchannels:
            return True
        if is_pattern:
            return channel in self.channels
        return channel_in(self.channels, channel)

    # --- description (ACL LIST, GETUSER) ---------------------------------------------------

    def describe_commands(self) -> bytes:
        """ACLDescribeSelectorCommandRules: +@all or -@all, the categories that best
        approximate the allowed set, then the single commands still different."""
        tab = table()
        additive = not self.future
        fake = Selector()
        rules = [b"-@all" if additive else b"+@all"]
        fake.apply(rules[0])
        temp = Selector()
        temp.allowed = set(self.allowed)
        applied: set[str] = set()
        while True:
            best = None
            mindiff, maxsame = 1 << 62, 0
            for category in ACL_ORDER:
                if category in applied:
                    continue
                on = sum(1 for c in tab.by_category[category] if c.stat_index in temp.allowed)
                off = len(tab.by_category[category]) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = category, diff, same
            if best is None:
                break
            fake.set_category(best, additive)
            temp.set_category(best, not additive)
            rules.append((b"+@" if additive else b"-@") + best.encode())
            applied.add(best)
        for cmd in COMMANDS.values():
            self._describe_single(cmd, fake, rules)
        return b" ".join(rules)

    def _describe_single(self, cmd: Command, fake: "Selector", rules: list[bytes]) -> None:
        mine = cmd.stat_index in self.allowed
        if mine != (cmd.stat_index in fake.allowed):
            rules.append((b"+" if mine else b"-") + cmd.name.encode())
            fake.set_command(cmd, mine)
        for sub in cmd.subcommands.values():
            self._describe_single(sub, fake, rules)
        if not mine:
            for first in self.firstargs.get(cmd.stat_index, ()):
                rules.append(b"+" + cmd.name.encode() + b"|" + first)

    def describe_keys(self) -> bytes:
        if self.allkeys:
            return b"~*"
        return b" ".join(k.describe() for k in self.keys)

    def describe_channels(self) -> bytes:
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + c for c in self.channels)

    def describe(self) -> bytes:
        """ACLDescribeSelector: keys, channels, commands."""
        parts = []
        if self.allkeys:
            parts.append(b"~*")
        else:
            parts.extend(k.describe() for k in self.keys)
        if self.allchannels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + c for c in self.channels)
        parts.append(self.describe_commands())
        return b" ".join(parts)

    def getuser_fields(self) -> list[Any]:
        return [b"commands", self.describe_commands(), b"keys", self.describe_keys(),
                b"channels", self.describe_channels()]


def channel_in(patterns: Iterable[bytes], channel: bytes) -> bool:
    for pattern in patterns:
        if _matcher(pattern)(channel):
            return True
    return False


# Commands whose arguments name channels (getChannelsFromCommand): publishing and
# subscribing are checked, unsubscribing never is.
_CHANNEL_COMMANDS = {"publish": 1, "spublish": 1, "subscribe": -1, "ssubscribe": -1,
                     "psubscribe": -1}


def channel_references(cmd: Command, argv: list[bytes]) -> list[int]:
    last = _CHANNEL_COMMANDS.get(cmd.name)
    if last is None:
        return []
    end = len(argv) if last < 0 else last + 1
    return list(range(1, end))


# --- users ---------------------------------------------------------------------------------

class User:
    __slots__ = ("name", "flags", "passwords", "selectors")

    def __init__(self, name: bytes, pubsub_all: bool = False) -> None:
        self.name = name
        self.flags = FLAG_OFF
        self.passwords: list[bytes] = []  # SHA-256 hex digests only
        self.selectors: list[Selector] = [Selector(root=True, allchannels=pubsub_all)]

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    @property
    def enabled(self) -> bool:
        return not self.flags & FLAG_OFF

    @property
    def nopass(self) -> bool:
        return bool(self.flags & FLAG_NOPASS)

    @property
    def restricted(self) -> bool:
        """False when the root selector allows everything: no check can fail."""
        return not self.root.unrestricted

    def copy_from(self, other: "User") -> None:
        self.flags = other.flags
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]

    def apply(self, op: bytes, pubsub_all: bool) -> None:
        """ACLSetUser: one rule; raises RuleError."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.flags = (self.flags | FLAG_ON) & ~FLAG_OFF
        elif low == b"off":
            self.flags = (self.flags | FLAG_OFF) & ~FLAG_ON
        elif low == b"skip-sanitize-payload":
            self.flags = (self.flags | FLAG_SKIP_SANITIZE) & ~FLAG_SANITIZE
        elif low == b"sanitize-payload":
            self.flags = (self.flags | FLAG_SANITIZE) & ~FLAG_SKIP_SANITIZE
        elif low == b"nopass":
            self.flags |= FLAG_NOPASS
            self.passwords.clear()
        elif low == b"resetpass":
            self.flags &= ~FLAG_NOPASS
            self.passwords.clear()
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else op[1:]
            if op[:1] == b"#" and not _is_hash(digest):
                raise RuleError(E_BAD_HASH)
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.flags &= ~FLAG_NOPASS
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else op[1:]
            if op[:1] == b"!" and not _is_hash(digest):
                raise RuleError(E_BAD_HASH)
            if digest not in self.passwords:
                raise RuleError(E_NO_SUCH_PASS)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(allchannels=pubsub_all)
            for rule in split_args(op[1:-1]):
                selector.apply(rule)
            self.selectors.append(selector)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            for rule in (b"resetpass", b"resetkeys", b"resetchannels"):
                self.apply(rule, pubsub_all)
            if pubsub_all:
                self.apply(b"allchannels", pubsub_all)
            for rule in (b"off", b"sanitize-payload", b"clearselectors", b"-@all"):
                self.apply(rule, pubsub_all)
        else:
            self.root.apply(op)

    def check_password(self, password: bytes) -> bool:
        if self.nopass:
            return True
        digest = hash_password(password)
        ok = False
        for stored in self.passwords:
            ok |= hmac.compare_digest(digest, stored)  # time-independent, like Redis
        return ok

    def flag_names(self) -> list[bytes]:
        return [name for bit, name in _FLAG_NAMES if self.flags & bit]

    def describe(self) -> bytes:
        """ACLDescribeUser: flags, #hashes, the root selector, (other selectors)."""
        parts = self.flag_names() + [b"#" + p for p in self.passwords]
        text = b" ".join(parts + [self.root.describe()])
        for selector in self.selectors[1:]:
            text += b" (" + selector.describe() + b")"
        return text

    def check(self, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: OK if any selector allows; otherwise the denial
        to report (the command if no selector got further, else the last key/channel)."""
        relevant, last = DENIED_CMD, 0
        key_cache: list[Any] = []
        for selector in self.selectors:
            result, pos = selector.check(cmd, argv, key_cache)
            if result == OK:
                return OK, 0
            if result > relevant or (result == relevant and pos > last):
                relevant, last = result, pos
        return relevant, last

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        return any(s.channel_allowed(channel, is_pattern) for s in self.selectors)


def split_args(text: bytes) -> list[bytes]:
    """sdssplitargs for the inside of a selector."""
    from respd.resp import split_args as split

    return split(text)


def merge_selector_args(args: list[bytes]) -> list[bytes]:
    """ACLMergeSelectorArguments: '(' ... ')' spread over several arguments is one rule.
    Raises ReplyError-free ValueError(index) for an unmatched '('."""
    merged: list[bytes] = []
    opened = -1
    current = b""
    for i, op in enumerate(args):
        if opened < 0 and op[:1] == b"(" and op[-1:] != b")":
            current, opened = op, i
            continue
        if opened >= 0:
            current += b" " + op
            if op[-1:] == b")":
                merged.append(current)
                opened = -1
            continue
        merged.append(op)
    if opened >= 0:
        raise UnmatchedParenthesis(opened)
    return merged


class UnmatchedParenthesis(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


# --- the ACL log ---------------------------------------------------------------------------

_GROUPING_MS = 60000


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime_ms", "cinfo")

    def __init__(self, reason: int, context: bytes, obj: bytes, username: bytes,
                 cinfo: bytes) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime_ms = int(time.time() * 1000)
        self.cinfo = cinfo

    def similar(self, other: "LogEntry") -> bool:
        return (self.reason == other.reason and self.context == other.context
                and abs(self.ctime_ms - other.ctime_ms) <= _GROUPING_MS
                and self.object == other.object and self.username == other.username)

    def reply(self, now_ms: int) -> Any:
        from respd.resp import Map

        return Map({
            b"count": self.count,
            b"reason": REASONS.get(self.reason, b"unknown"),
            b"context": self.context,
            b"object": self.object,
            b"username": self.username,
            b"age-seconds": (now_ms - self.ctime_ms) / 1000,
            b"client-info": self.cinfo,
        })


# --- the server's ACL state ----------------------------------------------------------------

class Acl:
    """Users (by name), the default user and the ACL log of one server."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.users: dict[bytes, User] = {}
        self.log: list[LogEntry] = []  # newest first
        self.default = self._new_default()
        self.users[b"default"] = self.default
        if server.config.requirepass:
            self.set_default_password(server.config.requirepass.encode("latin-1"))
        self._load_at_startup()

    def _load_at_startup(self) -> None:
        """ACLLoadUsersAtStartup: `user` directives or the aclfile, never both; an error
        stops the server, as it does Redis."""
        config = self.server.config
        if config.aclfile and config.acl_users:
            _fatal("Configuring Redis with users defined in redis.conf and at the same "
                   "setting an ACL file path is invalid. This setup is very likely to lead "
                   "to configuration errors and security holes, please define either an "
                   "ACL file or declare users directly in your redis.conf, but not both.")
        self.load_config_users(config.acl_users)
        if config.aclfile:
            try:
                self.load_file(config.aclfile)
            except ReplyError as err:
                _fatal("Aborting Redis startup because of ACL errors: "
                       + err.line[4:].decode("latin-1"))

    @property
    def pubsub_all(self) -> bool:
        return self.server.config.acl_pubsub_default == "allchannels"

    def _new_default(self) -> User:
        user = User(b"default")
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(rule, False)
        return user

    def get(self, name: bytes) -> User | None:
        return self.users.get(name)

    def sorted_users(self) -> list[User]:
        """The rax's order: byte-wise by name."""
        return [self.users[name] for name in sorted(self.users)]

    # --- changing users -------------------------------------------------------------------

    def setuser(self, name: bytes, rules: list[bytes], me: "Client | None" = None) -> None:
        """ACLStringSetUser: all rules or none; raises ReplyError with Redis's text."""
        try:
            merged = merge_selector_args(rules)
        except UnmatchedParenthesis as err:
            raise errors.acl_unmatched_parenthesis(rules[err.index]) from None
        existing = self.users.get(name)
        staged = User(name, self.pubsub_all)
        if existing is not None:
            staged.copy_from(existing)
        for op in merged:
            try:
                staged.apply(op, self.pubsub_all)
            except RuleError as err:
                raise errors.acl_setuser_modifier(op, err.reason) from None
        if existing is None:
            self.users[name] = staged
            return
        self._drop_revoked_subscribers(existing, staged, me)
        existing.copy_from(staged)
        self.user_changed(existing)

    def user_changed(self, user: User) -> None:
        """Clients authenticated as ``user`` see its new rules on their next command."""
        restricted = user.restricted
        # Redis's authRequired(): a default user that needs no password lets connections
        # that never authenticated run commands.
        open_default = user is self.default and user.nopass and user.enabled
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.acl_restricted = restricted
                if open_default:
                    client.authenticated = True

    def _drop_revoked_subscribers(self, old: User, new: User, me: "Client | None") -> None:
        """ACLKillPubsubClientsIfNeeded: subscribers whose channels the new rules no
        longer allow are disconnected."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [c for s in new.selectors for c in s.channels]
        if not any(s.allchannels for s in old.selectors) and all(
                c in upcoming for s in old.selectors for c in s.channels):
            return
        for client in list(self.server.clients.values()):
            if client.user is not old or not (client.channels or client.patterns
                                              or client.shard_channels):
                continue
            if (any(p not in upcoming for p in client.patterns)
                    or any(not channel_in(upcoming, c) for c in client.channels)
                    or any(not channel_in(upcoming, c) for c in client.shard_channels)):
                disconnect(client, me)

    def deluser(self, names: list[bytes], me: "Client | None" = None) -> int:
        if b"default" in names:
            raise errors.ACL_DELETE_DEFAULT
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                deleted += 1
                self._kill_clients_of(user, me)
        return deleted

    def _kill_clients_of(self, user: User, me: "Client | None") -> None:
        """ACLFreeUserAndKillClients: the user's connections go (the current one after
        its reply), back on the default user and unauthenticated meanwhile."""
        for client in list(self.server.clients.values()):
            if client.user is user:
                set_user(client, self.default, authenticated=False)
                disconnect(client, me)

    def set_default_password(self, password: bytes | None) -> None:
        """ACLUpdateDefaultUserPassword: requirepass sets the default user's only
        password; an empty one makes it nopass."""
        self.default.apply(b"resetpass", False)
        self.default.apply(b">" + password if password else b"nopass", False)
        self.user_changed(self.default)

    # --- authentication -------------------------------------------------------------------

    def authenticate(self, client: "Client", username: bytes, password: bytes,
                     argv0: bytes) -> bool:
        """ACLAuthenticateUser; a failure is logged (reason auth, object the command
        name as the client spelled it)."""
        user = self.users.get(username)
        if user is not None and user.enabled and user.check_password(password):
            set_user(client, user, authenticated=True)
            return True
        context = CTX_MULTI if client.multi is not None else CTX_TOPLEVEL
        self.add_log(client, DENIED_AUTH, context, argv0, username)
        return False

    # --- the log --------------------------------------------------------------------------

    def add_log(self, client: "Client", reason: int, context: bytes, obj: bytes,
                username: bytes | None = None) -> None:
        """addACLLogEntry: a similar recent entry (among the newest 10) is bumped and
        moved to the head instead of adding another.  ``client`` is the one that sent
        the command (a script's caller)."""
        entry = LogEntry(reason, context, obj,
                         username if username is not None else client.user.name,
                         client_info_line(client, client, client.last_cmd_name))
        for i, old in enumerate(self.log[:10]):
            if old.similar(entry):
                del self.log[i]
                old.cinfo = entry.cinfo
                old.ctime_ms = entry.ctime_ms
                old.count += 1
                self.log.insert(0, old)
                return
        self.log.insert(0, entry)
        del self.log[self.server.config.acllog_max_len:]

    def log_denial(self, client: "Client", cmd: Command, argv: list[bytes], reason: int,
                   pos: int, context: bytes) -> None:
        obj = cmd.name.encode() if reason == DENIED_CMD else argv[pos]
        self.add_log(client, reason, context, obj)

    # --- ACL files ------------------------------------------------------------------------

    def load_file(self, path: str, me: "Client | None" = None) -> None:
        """ACLLoadFromFile: every line valid or nothing changes; raises ReplyError."""
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError as err:
            raise errors.acl_file_unreadable(path, err.strerror or str(err)) from None
        label = self.server.config.aclfile.encode()
        problems: list[bytes] = []
        users: dict[bytes, User] = {}
        for number, raw in enumerate(text.split(b"\n"), 1):
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            argv = line.split(b" ")  # sdssplitlen: consecutive spaces give empty rules
            if argv[0] != b"user" or len(argv) < 2:
                problems.append(b"%s:%d should start with user keyword followed by the "
                                b"username. " % (label, number))
                continue
            name = argv[1]
            if has_spaces(name):
                problems.append(b"'%s:%d: username '%s' contains invalid characters. "
                                % (label, number, name))
                continue
            if name in users:
                problems.append(b"WARNING: Duplicate user '%s' found on line %d. "
                                % (name, number))
                continue
            user = users[name] = User(name, self.pubsub_all)
            try:
                rules = merge_selector_args(argv[2:])
            except UnmatchedParenthesis:
                problems.append(b"%s:%d: Unmatched parenthesis in selector definition."
                                % (label, number))
                continue
            syntax_error = False
            for op in rules:
                op = op.strip(b"\t\r\n")
                try:
                    user.apply(op, self.pubsub_all)
                except RuleError as err:
                    if err.reason == E_UNKNOWN:
                        problems.append(b"%s:%d: Error in applying operation '%s': %s. "
                                        % (label, number, op, err.reason.encode()))
                    elif not syntax_error:
                        problems.append(b"%s:%d: %s. " % (label, number, err.reason.encode()))
                        syntax_error = True
        if problems:
            raise errors.acl_load_failed(b"".join(problems))
        new_default = users.pop(b"default", None) or self._new_default()
        old = self.users
        self.default.copy_from(new_default)
        self.users = {b"default": self.default, **users}
        for name, user in old.items():
            if name != b"default":
                self._kill_clients_of(user, me)
        self.user_changed(self.default)

    def save_file(self, path: str) -> None:
        text = b"".join(b"user " + u.name + b" " + u.describe() + b"\n"
                        for u in self.sorted_users())
        tmp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            with open(tmp, "wb") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise errors.ACL_SAVE_FAILED from None

    def load_config_users(self, definitions: list[list[bytes]]) -> None:
        """ACLLoadConfiguredUsers: the `user` directives of the config file."""
        for argv in definitions:
            name = argv[0]
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = User(name, self.pubsub_all)
            else:
                user.apply(b"reset", self.pubsub_all)
            for op in argv[1:]:
                user.apply(op, self.pubsub_all)


def _fatal(message: str) -> None:
    log.warning("%s", message)
    print(message, file=sys.stderr)
    raise SystemExit(1)


def _requirepass_changed(server: "Server", value: str) -> None:
    """CONFIG SET requirepass: the default user's password, as Redis's
    ACLUpdateDefaultUserPassword."""
    server.acl.set_default_password(value.encode("latin-1") or None)


on_config_set("requirepass", _requirepass_changed)


# --- clients -------------------------------------------------------------------------------

def set_user(client: "Client", user: User, authenticated: bool) -> None:
    client.user = user
    client.authenticated = authenticated
    client.acl_restricted = user.restricted


def disconnect(client: "Client", me: "Client | None") -> None:
    """The client goes: now, or after its current reply if it is the one running."""
    kill_client(client, me if me is not None else client)


def denial_error(reason: int, cmd: Command) -> ReplyError:
    if reason == DENIED_CMD:
        return errors.noperm_command(cmd.name)
    if reason == DENIED_KEY:
        return errors.NOPERM_KEY
    return errors.NOPERM_CHANNEL


def check_command(client: "Client", cmd: Command, argv: list[bytes]) -> ReplyError | None:
    """processCommand's ACL step for a restricted client: None, or the logged NOPERM
    error to reply with."""
    result, pos = client.user.check(cmd, argv)
    if result == OK:
        return None
    acl = client.server.acl
    context = CTX_MULTI if client.multi is not None else CTX_TOPLEVEL
    acl.log_denial(client, cmd, argv, result, pos, context)
    return denial_error(result, cmd)


def check_exec(client: "Client", cmd: Command, argv: list[bytes]) -> ReplyError | None:
    """EXEC's re-check of a queued command (the rules may have changed since)."""
    result, pos = client.user.check(cmd, argv)
    if result == OK:
        return None
    client.server.acl.log_denial(client, cmd, argv, result, pos, CTX_MULTI)
    err = {DENIED_CMD: errors.NOPERM_EXEC_COMMAND, DENIED_KEY: errors.NOPERM_EXEC_KEY}.get(
        result, errors.NOPERM_EXEC_CHANNEL)
    client.server.count_error(err)
    return err


def check_script(caller: "Client", cmd: Command, argv: list[bytes]) -> None:
    """scriptVerifyACL: redis.call runs with the permissions of the script's caller;
    raises the script's error."""
    result, pos = caller.user.check(cmd, argv)
    if result == OK:
        return
    caller.server.acl.log_denial(caller, cmd, argv, result, pos, CTX_LUA)
    raise {DENIED_CMD: errors.SCRIPT_NOPERM_COMMAND, DENIED_KEY: errors.SCRIPT_NOPERM_KEY}.get(
        result, errors.SCRIPT_NOPERM_CHANNEL)


def add_user_directive(config: "Config", args: list[bytes]) -> None:
    """A config-file `user <name> <rule> ...` line, validated now as Redis does
    (ACLAppendUserForLoading); raises ConfigError with Redis's text."""
    if not args:
        raise ConfigError("Bad directive or wrong number of arguments")
    if any(existing[0] == args[0] for existing in config.acl_users):
        raise ConfigError(f"Error in user declaration '{args[0].decode('latin-1')}': "
                          "Duplicate user found. A user can only be defined once in "
                          "config files")
    try:
        rules = merge_selector_args(args[1:])
    except UnmatchedParenthesis as err:
        raise ConfigError(f"Error in user declaration "
                          f"'{args[1 + err.index].decode('latin-1')}': Wrong format") from None
    probe = User(b"probe", config.acl_pubsub_default == "allchannels")
    for op in rules:
        try:
            probe.apply(op, config.acl_pubsub_default == "allchannels")
        except RuleError as err:
            raise ConfigError(f"Error in user declaration '{op.decode('latin-1')}': "
                              f"{err.reason}") from None
    config.acl_users.append([args[0], *rules])
