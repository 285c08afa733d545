"""String commands."""

from __future__ import annotations

from typing import Any

from respd.client import Client
from respd.command import command
from respd.resp import OK

GROUP = "string"


@command("GET", arity=2, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Get the value of a key", syntax="key")
def get(client: Client, argv: list[bytes]) -> Any:
    return client.db.lookup_typed(argv[1], bytes)


@command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Set the string value of a key", syntax="key value")
def set_(client: Client, argv: list[bytes]) -> Any:
    client.db.set(argv[1], argv[2])
    client.server.dirty += 1
    return OK
