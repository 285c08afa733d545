"""MIGRATE (keys to another instance as DUMP payloads sent with RESTORE, or RESTORE-ASKING
in cluster mode) and RESTORE-ASKING.  Like Redis, MIGRATE blocks the server while it
talks to the target, bounded by its timeout."""

from __future__ import annotations

import socket
from typing import Any

import hiredis

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands import dump as dump_commands
from respd.commands.keyspace import delete_key
from respd.errors import ReplyError
from respd.numbers import parse_int
from respd.resp import OK, Status
from respd.storage import dump as serializer

GROUP = "generic"
NOKEY = Status(b"NOKEY")


def _migrate_keys(argv: list[bytes]) -> list[int]:
    for i in range(6, len(argv)):
        opt = argv[i].lower()
        if opt == b"keys" and argv[3] == b"":
            return list(range(i + 1, len(argv)))
        if opt == b"auth":
            break
    return [3] if argv[3] != b"" else []


def _command(args: list[bytes]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


@command("MIGRATE", arity=-6, flags="write", keys=(3, 3, 1), getkeys=_migrate_keys, group=GROUP,
         since="2.6.0", acl="keyspace write slow dangerous",
         summary="Atomically transfer a key from a Redis instance to another one.",
         complexity="This command actually executes a DUMP+DEL in the source instance, "
                    "and a RESTORE in the target instance. See the pages of these commands "
                    "for time complexity. Also an O(N) data transfer between the two "
                    "instances is performed.",
         syntax="host port key|\"\" destination-db:integer timeout:integer [COPY] [REPLACE] "
                "[AUTH password | AUTH2 username password] [KEYS key [key ...]]")
def migrate(client: Client, argv: list[bytes]) -> Any:
    copy = replace = False
    auth: list[bytes] = []
    keys = [argv[3]]
    i = 6
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"copy":
            copy = True
        elif opt == b"replace":
            replace = True
        elif opt == b"auth" and more >= 1:
            auth = [b"AUTH", argv[i + 1]]
            i += 1
        elif opt == b"auth2" and more >= 2:
            auth = [b"AUTH", argv[i + 1], argv[i + 2]]
            i += 2
        elif opt == b"keys":
            if argv[3] != b"":
                raise errors.cluster_error("WHEN_USING_MIGRATE_KEYS_OPTION_THE_KEY_A")
            keys = argv[i + 1:]
            break
        else:
            raise errors.SYNTAX
        i += 1
    port, db_index, timeout = parse_int(argv[2]), parse_int(argv[4]), parse_int(argv[5])
    if port is None or db_index is None or timeout is None:
        raise errors.NOT_INTEGER
    if timeout <= 0:
        timeout = 1000
    db = client.db
    present = [(k, db.lookup(k)) for k in keys]
    present = [(k, v) for k, v in present if v is not None]
    if not present:
        return NOKEY
    server = client.server
    restore = b"RESTORE-ASKING" if server.cluster is not None else b"RESTORE"
    requests = [auth] if auth else []
    requests.append([b"SELECT", argv[4]])
    now = server.now_ms()
    for key, value in present:
        when = db.ttl_ms(key)
        ttl = max(when - now, 1) if when is not None else 0
        req = [restore, key, b"%d" % ttl, serializer.dump(value)]
        if replace:
            req.append(b"REPLACE")
        requests.append(req)
    replies = _exchange(argv[1].decode("latin-1"), port, timeout / 1000, requests)
    first_error = None
    for n, reply in enumerate(replies):
        if isinstance(reply, hiredis.ReplyError):
            first_error = first_error or str(reply).encode()
            continue
        done = n - (len(requests) - len(present))
        if done >= 0 and not copy:
            delete_key(client, present[done][0])
    if first_error is not None:
        raise errors.migrate_target_error(first_error)
    if not copy:
        deleted = [k for k, _ in present if db.lookup(k) is None]
        client.propagate_as = [[b"DEL", *deleted]] if deleted else []
    else:
        client.propagate_as = []
    return OK


def _exchange(host: str, port: int, timeout: float, requests: list[list[bytes]]) -> list[Any]:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        raise errors.IOERR_CONNECT from None
    try:
        try:
            sock.sendall(b"".join(_command(r) for r in requests))
        except OSError:
            raise errors.IOERR_WRITE from None
        reader = hiredis.Reader()
        replies: list[Any] = []
        while len(replies) < len(requests):
            try:
                data = sock.recv(65536)
            except OSError:
                raise errors.IOERR_READ from None
            if not data:
                raise errors.IOERR_READ
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
        return replies
    finally:
        sock.close()


@command("RESTORE-ASKING", arity=-4, flags="write denyoom asking", keys=(1, 1, 1),
         group="server", since="3.0.0", acl="keyspace write slow dangerous",
         summary="An internal command for migrating keys in a cluster",
         complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
                    "serialized value, where N is the number of Redis objects composing "
                    "the value and M their average size. For small string values the time "
                    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). "
                    "However for sorted set values the complexity is O(N*M*log(N)) because "
                    "inserting values into sorted sets is O(log(N)).",
         syntax="key ttl:integer serialized-value:string [REPLACE] [ABSTTL] "
                "[IDLETIME seconds:integer] [FREQ frequency:integer]")
def restore_asking(client: Client, argv: list[bytes]) -> Any:
    return dump_commands.restore(client, argv)
