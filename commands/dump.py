"""DUMP and RESTORE: a key's value as Redis 7.0's serialization (respd.storage.dump), and
back.  Payloads travel both ways between respd and redis-server."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.numbers import int64
from respd.resp import OK
from respd.storage import dump as serializer
from respd.storage.rdb import RdbError

GROUP = "generic"


@command("DUMP", arity=2, flags="readonly", keys=(1, 1, 1), group=GROUP, since="2.6.0",
         tips="nondeterministic_output",
         summary="Return a serialized version of the value stored at the specified key.",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N "
                    "is the number of Redis objects composing the value and M their average "
                    "size. For small string values the time complexity is thus O(1)+O(1*M) "
                    "where M is small, so simply O(1).",
         syntax="key")
def dump(client: Client, argv: list[bytes]) -> Any:
    value = client.db.read(argv[1])
    return None if value is None else serializer.dump(value, client.server.config.rdbcompression)


def _options(argv: list[bytes]) -> tuple[bool, bool]:
    """RESTORE's options in Redis's loop order: (REPLACE, ABSTTL).  IDLETIME and FREQ are
    validated (and exclude each other) but access times are not kept per key."""
    replace = absttl = False
    idle = freq = -1
    i = 4
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = int64(argv[i + 1])
            if idle < 0:
                raise errors.INVALID_IDLETIME
            i += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = int64(argv[i + 1])
            if not 0 <= freq <= 255:
                raise errors.INVALID_FREQ
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    return replace, absttl


@command("RESTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), group=GROUP,
         since="2.6.0", acl="keyspace write slow dangerous",
         summary="Create a key using the provided serialized value, previously obtained "
                 "using DUMP.",
         complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
                    "serialized value, where N is the number of Redis objects composing "
                    "the value and M their average size. For small string values the time "
                    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). "
                    "However for sorted set values the complexity is O(N*M*log(N)) because "
                    "inserting values into sorted sets is O(log(N)).",
         history=(("3.0.0", "Added the `REPLACE` modifier."),
                  ("5.0.0", "Added the `ABSTTL` modifier."),
                  ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")),
         syntax="key ttl:integer serialized-value:string [REPLACE] [ABSTTL] "
                "[IDLETIME seconds:integer] [FREQ frequency:integer]")
def restore(client: Client, argv: list[bytes]) -> Any:
    replace, absttl = _options(argv)
    db = client.db
    key = argv[1]
    if not replace and db.lookup(key) is not None:
        raise errors.BUSYKEY
    ttl = int64(argv[2])
    if ttl < 0:
        raise errors.INVALID_TTL
    payload = argv[3]
    if not serializer.verify(payload):
        raise errors.DUMP_PAYLOAD_WRONG
    server = client.server
    try:
        value = serializer.restore(payload, server)
    except RdbError:
        raise errors.BAD_DATA_FORMAT from None
    deleted = db.delete(key) if replace else False
    if ttl and not absttl:
        ttl += server.now_ms()
    if ttl and ttl <= server.now_ms():
        # Already expired: the key is gone (a replaced one is deleted).
        if deleted:
            client.propagate_as = [[b"DEL", key]]
            db.modified(key)
            db.notify("g", b"del", key)
            server.dirty += 1
        else:
            client.propagate_as = []
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:  # propagated with the absolute time
            client.propagate_as = [[b"RESTORE", key, b"%d" % ttl, payload, *argv[4:],
                                    b"ABSTTL"]]
    db.modified(key)
    db.notify("g", b"restore", key)
    server.dirty += 1
    return OK
