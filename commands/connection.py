"""Connection commands: PING ECHO QUIT RESET SELECT AUTH HELLO."""

from __future__ import annotations

from typing import Any

from respd import REDIS_VERSION, errors
from respd.acl import set_user
from respd.client import REPLY_ON, Client
from respd.command import command
from respd.errors import ReplyError
from respd.numbers import parse_int
from respd.resp import OK, PONG, Map, Status

GROUP = "connection"


@command("PING", arity=-1, flags="fast", plain=True, group=GROUP, since="1.0.0",
         summary="Ping the server", syntax="[message]")
def ping(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    # in_pubsub_mode spelled out: PING is the cheapest command clients send
    if client.resp == 2 and (client.channels or client.patterns or client.shard_channels):
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("ECHO", arity=2, flags="loading stale fast", plain=True, group=GROUP, since="1.0.0",
         summary="Echo the given string", syntax="message")
def echo(client: Client, argv: list[bytes]) -> Any:
    return argv[1]


@command("QUIT", arity=-1, flags="allow_busy noscript loading stale fast no_auth",
         group=GROUP, since="1.0.0", summary="Close the connection")
def quit_(client: Client, argv: list[bytes]) -> Any:
    client.close_after_reply = True
    return OK


def select_db(client: Client, raw: bytes) -> None:
    index = parse_int(raw)
    if index is None:
        raise errors.NOT_INTEGER
    if not -(2**31) <= index < 2**31:  # getIntFromObjectOrReply's own message
        raise errors.INT32_RANGE
    if client.server.cluster is not None and index != 0:
        raise errors.SELECT_IN_CLUSTER
    if not 0 <= index < len(client.server.dbs):
        raise errors.DB_INDEX_RANGE
    client.db = client.server.dbs[index]


@command("SELECT", arity=2, flags="loading stale fast", plain=True, group=GROUP, since="1.0.0",
         summary="Change the selected database for the current connection",
         syntax="index:integer")
def select(client: Client, argv: list[bytes]) -> Any:
    select_db(client, argv[1])
    return OK


def authenticate(client: Client, username: bytes, password: bytes, argv0: bytes) -> None:
    """ACLAuthenticateUser: the user must exist, be on, and take the password."""
    if not client.server.acl.authenticate(client, username, password, argv0):
        raise errors.WRONGPASS


@command("AUTH", arity=-2, flags="noscript loading stale fast no_auth allow_busy",
         group=GROUP,
         since="1.0.0", summary="Authenticate to the server",
         complexity="O(N) where N is the number of passwords defined for the user",
         syntax="[username] password",
         history=(("6.0.0", "Added ACL style (username and password)."),))
def auth(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise errors.SYNTAX
    if len(argv) == 2:
        # The one-argument form keeps its old error when the default user is nopass.
        if client.server.acl.default.nopass:
            raise errors.AUTH_NOT_CONFIGURED
        authenticate(client, b"default", argv[1], argv[0])
    else:
        authenticate(client, argv[1], argv[2], argv[0])
    return OK


NOAUTH_HELLO = ReplyError(
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
    "select the RESP protocol version at the same time"
)


@command("HELLO", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group=GROUP,
         since="6.0.0", summary="Handshake with Redis",
         syntax="[protover:integer [AUTH username password] [SETNAME clientname]]")
def hello(client: Client, argv: list[bytes]) -> Any:
    version = 0
    if len(argv) >= 2:
        version = parse_int(argv[1])
        if version is None:
            raise errors.PROTOVER_NOT_INT
        if not 2 <= version <= 3:
            raise errors.NOPROTO
    username = password = name = None
    i = 2
    while i < len(argv):
        opt = argv[i].upper()
        more = len(argv) - 1 - i
        if opt == b"AUTH" and more >= 2:
            username, password = argv[i + 1], argv[i + 2]
            i += 3
        elif opt == b"SETNAME" and more >= 1:
            name = argv[i + 1]
            i += 2
        else:
            raise errors.hello_option(argv[i])
    if username is not None and password is not None:
        authenticate(client, username, password, argv[0])
    if not client.authenticated:
        raise NOAUTH_HELLO
    if name is not None:
        from respd.commands.client import set_client_name

        set_client_name(client, name)
    if version:
        client.resp = version
    return Map(
        {
            b"server": b"redis",
            b"version": REDIS_VERSION.encode(),
            b"proto": client.resp,
            b"id": client.id,
            b"mode": b"standalone",
            b"role": b"master",
            b"modules": [],
        }
    )


@command("RESET", arity=1, flags="noscript loading stale fast no_auth allow_busy",
         group=GROUP, since="6.2.0", summary="Reset the connection")
def reset(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    client.multi = None
    client.multi_error = False
    client.unwatch_all()
    server.pubsub.remove_client(client)
    server.monitors.pop(client, None)
    client.is_monitor = False
    client.db = server.dbs[0]
    client.resp = 2
    client.name = b""
    client.reply_mode = REPLY_ON
    client.no_evict = client.no_touch = False
    server.tracking.disable(client)  # client-side caching off (a no-op when not tracking)
    client.cluster_flags = 0  # ASKING, READONLY
    # Back on the default user, authenticated only if it needs no password.
    default = server.acl.default
    set_user(client, default, default.nopass and default.enabled)
    return Status(b"RESET")
