"""CLIENT subcommands (Redis 7.0.15's set: no SETINFO, no NO-TOUCH).  The pause that
CLIENT PAUSE starts lives in respd.pause."""

from __future__ import annotations

import time
from typing import Any

from respd import errors, tracking
from respd.client import (
    CLIENT_TYPES, REPLY_OFF, REPLY_ON, REPLY_SKIP, Client, client_info_line, client_type,
    kill_client,
)
from respd.command import command, container, help_reply
from respd.numbers import parse_int
from respd.pause import is_paused
from respd.resp import NO_REPLY, OK, AttrSet, Map, Verbatim

GROUP = "connection"
ADMIN = "admin noscript loading stale"
PLAIN = "noscript loading stale"

container("CLIENT", group=GROUP, since="2.4.0",
          summary="A container for client connection commands")


def set_client_name(client: Client, name: bytes) -> None:
    """Names may not contain spaces or characters outside '!'..'~' (Redis's rule)."""
    if any(b < 0x21 or b > 0x7E for b in name):
        raise errors.CLIENT_NAME_SPACES
    client.name = name


@command("CLIENT SETNAME", arity=3, flags=PLAIN, group=GROUP,
         since="2.6.9", summary="Set the current connection name",
         syntax="connection-name")
def client_setname(client: Client, argv: list[bytes]) -> Any:
    set_client_name(client, argv[2])
    return OK


@command("CLIENT GETNAME", arity=2, flags=PLAIN, group=GROUP,
         since="2.6.9", summary="Get the current connection name")
def client_getname(client: Client, argv: list[bytes]) -> Any:
    return client.name or None


@command("CLIENT ID", arity=2, flags=PLAIN, group=GROUP,
         since="5.0.0", summary="Returns the client ID for the current connection")
def client_id(client: Client, argv: list[bytes]) -> Any:
    return client.id


# --- CLIENT LIST / INFO ---------------------------------------------------------------------

@command("CLIENT LIST", arity=-2, flags=ADMIN, group=GROUP, since="2.4.0",
         summary="Get the list of client connections",
         complexity="O(N) where N is the number of client connections",
         syntax="[TYPE (NORMAL | MASTER | REPLICA | PUBSUB)] [ID client-id:integer ...]",
         tips="nondeterministic_output")
def client_list(client: Client, argv: list[bytes]) -> Any:
    clients = list(client.server.clients.values())
    if len(argv) == 4 and argv[2].lower() == b"type":
        wanted = CLIENT_TYPES.get(argv[3].lower())
        if wanted is None:
            raise errors.unknown_client_type(argv[3])
        clients = [c for c in clients if client_type(c) == wanted]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        ids = []
        for raw in argv[3:]:
            ident = parse_int(raw)
            if ident is None:
                raise errors.INVALID_CLIENT_ID
            ids.append(ident)
        table = client.server.clients
        clients = [table[i] for i in ids if i in table]
    elif len(argv) != 2:
        raise errors.SYNTAX
    return Verbatim(b"".join(client_info_line(c, client, b"client|list") + b"\n"
                             for c in clients))


@command("CLIENT INFO", arity=2, flags=PLAIN, group=GROUP, since="6.2.0",
         summary="Returns information about the current client connection.",
         tips="nondeterministic_output")
def client_info(client: Client, argv: list[bytes]) -> Any:
    return Verbatim(client_info_line(client, client, b"client|info") + b"\n")


# --- CLIENT KILL ---------------------------------------------------------------------------

class KillFilter:
    """CLIENT KILL's criteria; every one given must match."""

    def __init__(self) -> None:
        self.ident: int | None = None
        self.kind: str | None = None
        self.addr: bytes | None = None
        self.laddr: bytes | None = None
        self.user: Any = None  # respd.acl.User
        self.skipme = True

    def matches(self, target: Client, me: Client) -> bool:
        return not (
            (self.ident is not None and target.id != self.ident)
            or (self.kind is not None and client_type(target) != self.kind)
            or (self.addr is not None and target.addr != self.addr)
            or (self.laddr is not None and target.laddr != self.laddr)
            or (self.user is not None and target.user is not self.user)
            or (self.skipme and target is me)
        )


def _kill_filter(server: Any, argv: list[bytes]) -> KillFilter:
    """The new form's option/value pairs, checked in Redis's order."""
    found = KillFilter()
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if i + 1 >= len(argv):
            raise errors.SYNTAX
        value = argv[i + 1]
        if opt == b"id":
            ident = parse_int(value)
            if ident is None or ident < 1:
                raise errors.CLIENT_ID_POSITIVE
            found.ident = ident
        elif opt == b"type":
            kind = CLIENT_TYPES.get(value.lower())
            if kind is None:
                raise errors.unknown_client_type(value)
            found.kind = kind
        elif opt == b"addr":
            found.addr = value
        elif opt == b"laddr":
            found.laddr = value
        elif opt == b"user":
            found.user = server.acl.get(value)
            if found.user is None:
                raise errors.no_such_user(value)
        elif opt == b"skipme":
            if value.lower() not in (b"yes", b"no"):
                raise errors.SYNTAX
            found.skipme = value.lower() == b"yes"
        else:
            raise errors.SYNTAX
        i += 2
    return found


@command("CLIENT KILL", arity=-3, flags=ADMIN, group=GROUP, since="2.4.0",
         summary="Kill the connection of a client",
         complexity="O(N) where N is the number of client connections",
         syntax="ip:port | ([ID client-id:integer] [TYPE (NORMAL | MASTER | SLAVE | REPLICA "
                "| PUBSUB)] [USER username] [ADDR ip:port] [LADDR ip:port] "
                "[SKIPME yes/no])")
def client_kill(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:  # the old form: CLIENT KILL addr
        old = KillFilter()
        old.addr, old.skipme = argv[2], False
        victims = [c for c in client.server.clients.values() if old.matches(c, client)]
        if not victims:
            raise errors.NO_SUCH_CLIENT
        for victim in victims:
            kill_client(victim, client)
        return OK
    criteria = _kill_filter(client.server, argv)
    victims = [c for c in client.server.clients.values() if criteria.matches(c, client)]
    for victim in victims:
        kill_client(victim, client)
    return len(victims)


# --- CLIENT REPLY / NO-EVICT / client-side caching (respd.tracking) ---------------------------------------

@command("CLIENT REPLY", arity=3, flags=PLAIN, group=GROUP, since="3.2.0",
         summary="Instruct the server whether to reply to commands",
         syntax="ON | OFF | SKIP")
def client_reply(client: Client, argv: list[bytes]) -> Any:
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_mode = REPLY_ON
        return OK
    if mode == b"off":
        client.reply_mode = REPLY_OFF
    elif mode == b"skip":
        # Skips the *next* reply: this command itself answers nothing.
        if client.reply_mode != REPLY_OFF:
            client.reply_mode = REPLY_SKIP
    else:
        raise errors.SYNTAX
    return NO_REPLY


@command("CLIENT NO-EVICT", arity=3, flags=ADMIN, group=GROUP, since="7.0.0",
         summary="Set client eviction mode for the current connection", syntax="ON | OFF")
def client_no_evict(client: Client, argv: list[bytes]) -> Any:
    client.no_evict = _on_off(argv[2])
    return OK


def _on_off(raw: bytes) -> bool:
    low = raw.lower()
    if low not in (b"on", b"off"):
        raise errors.SYNTAX
    return low == b"on"


@command("CLIENT TRACKING", arity=-3, flags=PLAIN, group=GROUP, since="6.0.0",
         summary="Enable or disable server assisted client side caching support",
         complexity="O(1). Some options may introduce additional complexity.",
         syntax="ON | OFF [REDIRECT client-id:integer] [PREFIX prefix [PREFIX prefix ...]] "
                "[BCAST] [OPTIN] [OPTOUT] [NOLOOP]")
def client_tracking(client: Client, argv: list[bytes]) -> Any:
    state = tracking.parse(client, argv)
    if state is None:
        client.server.tracking.disable(client)
    else:
        client.server.tracking.enable(client, state)
    return OK


@command("CLIENT CACHING", arity=3, flags=PLAIN, group=GROUP, since="6.0.0",
         summary="Instruct the server about tracking or not keys in the next request",
         syntax="YES | NO")
def client_caching(client: Client, argv: list[bytes]) -> Any:
    state = client.tracking
    if state is None or not (state.optin or state.optout):
        raise errors.CACHING_NOT_OPT
    choice = argv[2].lower()
    if choice == b"yes":
        if not state.optin:
            raise errors.CACHING_YES_NOT_OPTIN
        state.caching = True
    elif choice == b"no":
        if not state.optout:
            raise errors.CACHING_NO_NOT_OPTOUT
        state.caching = False
    else:
        raise errors.SYNTAX
    return OK


@command("CLIENT GETREDIR", arity=2, flags=PLAIN, group=GROUP, since="6.0.0",
         summary="Get tracking notifications redirection client ID if any")
def client_getredir(client: Client, argv: list[bytes]) -> Any:
    return client.tracking.redirect if client.tracking is not None else -1


@command("CLIENT TRACKINGINFO", arity=2, flags=PLAIN, group=GROUP, since="6.2.0",
         summary="Return information about server assisted client side caching for the "
         "current connection")
def client_trackinginfo(client: Client, argv: list[bytes]) -> Any:
    state = client.tracking
    if state is None:
        return Map({b"flags": AttrSet([b"off"]), b"redirect": -1, b"prefixes": []})
    flags = [b"on"]
    if state.bcast:
        flags.append(b"bcast")
    if state.optin:
        flags.append(b"optin")
        if state.caching:
            flags.append(b"caching-yes")
    if state.optout:
        flags.append(b"optout")
        if state.caching is False:
            flags.append(b"caching-no")
    if state.noloop:
        flags.append(b"noloop")
    if state.broken:
        flags.append(b"broken_redirect")
    return Map({b"flags": AttrSet(flags), b"redirect": state.redirect,
                b"prefixes": sorted(state.prefixes)})


# --- CLIENT UNBLOCK ------------------------------------------------------------------------

@command("CLIENT UNBLOCK", arity=-3, flags=ADMIN, group=GROUP, since="5.0.0",
         summary="Unblock a client blocked in a blocking command from a different "
         "connection", complexity="O(log N) where N is the number of client connections",
         syntax="client-id:integer [TIMEOUT | ERROR]")
def client_unblock(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 4:
        raise errors.unknown_subcommand_or_arity(argv[1], "CLIENT")
    as_error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason not in (b"timeout", b"error"):
            raise errors.CLIENT_UNBLOCK_REASON
        as_error = reason == b"error"
    ident = parse_int(argv[2])
    if ident is None:
        raise errors.NOT_INTEGER
    target = client.server.clients.get(ident)
    if target is None or target.blocked is None:
        return 0
    if not is_paused(target):  # a paused client would be paused again
        reply = errors.UNBLOCKED_BY_CLIENT if as_error else target.blocked.timeout_reply
        client.server.blocking.unblock(target, reply)
    return 1


# --- CLIENT PAUSE / UNPAUSE (the pause itself: respd.pause) ---------------------------------


@command("CLIENT PAUSE", arity=-3, flags=ADMIN, group=GROUP, since="2.9.50",
         summary="Stop processing commands from clients for some time",
         syntax="timeout:integer [WRITE | ALL]",
         history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` "
                   "option."),))
def client_pause(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 4:
        raise errors.unknown_subcommand_or_arity(argv[1], "CLIENT")
    writes_only = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode not in (b"write", b"all"):
            raise errors.CLIENT_PAUSE_MODE
        writes_only = mode == b"write"
    timeout = parse_int(argv[2])
    if timeout is None:
        raise errors.TIMEOUT_NOT_INTEGER
    if timeout < 0:
        raise errors.TIMEOUT_NEGATIVE
    client.server.pause.start(timeout, writes_only)
    return OK


@command("CLIENT UNPAUSE", arity=2, flags=ADMIN, group=GROUP, since="6.2.0",
         summary="Resume processing of clients that were paused",
         complexity="O(N) Where N is the number of paused clients")
def client_unpause(client: Client, argv: list[bytes]) -> Any:
    client.server.pause.end()
    return OK


# --- CLIENT HELP ---------------------------------------------------------------------------

CLIENT_HELP = (
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
)


@command("CLIENT HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def client_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("CLIENT", CLIENT_HELP)
