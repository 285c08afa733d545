"""Persistence commands: SAVE BGSAVE BGREWRITEAOF LASTSAVE (the work is in
respd.persistence's ``Persistence``).  What goes into a snapshot or rewrite is each
family's to say: data types register a rewriter and scripting its FUNCTION sources with
storage.snapshot."""

from __future__ import annotations

import logging
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.resp import OK, Status

GROUP = "server"
log = logging.getLogger("respd")


@command("SAVE", arity=1, flags="admin noscript no_async_loading no_multi", group=GROUP,
         since="1.0.0", summary="Synchronously save the dataset to disk",
         complexity="O(N) where N is the total number of keys in all databases",
         acl="admin dangerous")
def save(client: Client, argv: list[bytes]) -> Any:
    persistence = client.server.persistence
    if persistence.child is not None and persistence.child.kind == "rdb":
        raise errors.BGSAVE_IN_PROGRESS
    try:
        persistence.save()
    except OSError as err:
        log.warning("Failed saving the DB: %s", err.strerror)
        raise errors.SAVE_FAILED from None
    return OK


@command("BGSAVE", arity=-1, flags="admin noscript no_async_loading", group=GROUP,
         since="1.0.0", summary="Asynchronously save the dataset to disk",
         syntax="[SCHEDULE]", history=(("3.2.2", "Added the `SCHEDULE` option."),),
         acl="admin dangerous")
def bgsave(client: Client, argv: list[bytes]) -> Any:
    schedule = False
    if len(argv) > 1:
        if len(argv) != 2 or argv[1].lower() != b"schedule":
            raise errors.SYNTAX
        schedule = True
    outcome = client.server.persistence.bgsave(schedule)
    return Status(b"Background saving " + outcome.encode())


@command("BGREWRITEAOF", arity=1, flags="admin noscript no_async_loading", group=GROUP,
         since="1.0.0", summary="Asynchronously rewrite the append-only file",
         acl="admin dangerous")
def bgrewriteaof(client: Client, argv: list[bytes]) -> Any:
    outcome = client.server.persistence.bgrewriteaof()
    return Status(b"Background append only file rewriting " + outcome.encode())


@command("LASTSAVE", arity=1, flags="loading stale fast", group=GROUP, since="1.0.0",
         summary="Get the UNIX time stamp of the last successful save to disk",
         acl="admin dangerous", tips="nondeterministic_output")
def lastsave(client: Client, argv: list[bytes]) -> Any:
    return client.server.last_save
