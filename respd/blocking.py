"""Blocking commands: clients parked on keys and woken by the writes that make them ready.

One general mechanism serves BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, XREADGROUP BLOCK...:

1. A handler that cannot be served now returns ``client.block(keys, timeout_ms,
   timeout_reply, argv)``.  Arguments meaning "now" (XREAD's ``$``) are rewritten in the
   stored ``argv`` first, so the re-run cannot miss entries or spin.
2. ``park`` queues the client on each key (``db.blocking[key]``, FIFO) and arms a timer.
3. Any write to a key with waiters calls ``Database.modified`` → ``key_ready``: the key
   joins ``ready`` (an ordered set, deduplicated like Redis's ready_keys list).
4. After each top-level command, ``serve_ready`` re-runs the stored command of each
   waiter of each ready key, in FIFO order, with ``client.reprocessing`` set.  A handler
   that still cannot serve returns BLOCKED again (it stays parked); otherwise the client
   is unparked, gets the reply, and its pipelined requests resume.
5. Timeout: unparked with its timeout reply.  Disconnect: unparked silently.

No coroutine or future per blocked client and no polling: wake-ups happen in the same
event-loop callback as the write that caused them, in Redis's order.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from respd.client import BlockState, Client
from respd.resp import BLOCKED

if TYPE_CHECKING:
    from respd.server import Server
    from respd.storage.db import Database

# Runs a parked command again (dispatch.rerun_blocked, handed over by the server).
Rerun = Callable[[Client, list[bytes]], Any]


class Blocking:
    def __init__(self, server: "Server", rerun: Rerun) -> None:
        self.server = server
        self.rerun = rerun
        self.ready: dict[tuple[int, bytes], "Database"] = {}
        self.blocked_count = 0
        # The ready key being served: a re-run serves from it alone, as Redis does.
        self.serving_key: bytes | None = None

    def park(
        self, client: Client, keys: list[bytes], timeout_ms: int, timeout_reply: Any,
        argv: list[bytes] | None,
    ) -> Any:
        if client.blocked is not None:
            # Re-run of an already parked command that still cannot be served.
            if argv is not None:
                client.blocked.argv = argv
            return BLOCKED
        server = self.server
        db = client.db
        deadline = server.now_ms() + timeout_ms if timeout_ms > 0 else 0
        state = BlockState(db, list(dict.fromkeys(keys)), argv or [], timeout_reply, deadline)
        for key in state.keys:
            db.blocking.setdefault(key, deque()).append(client)
        if timeout_ms > 0 and server.loop is not None:
            state.timer = server.loop.call_later(timeout_ms / 1000.0, self.timeout, client)
        client.blocked = state
        self.blocked_count += 1
        return BLOCKED

    def unpark(self, client: Client) -> None:
        state = client.blocked
        if state is None:
            return
        client.blocked = None
        self.blocked_count -= 1
        if state.timer is not None:
            state.timer.cancel()
        db = state.db
        for key in state.keys:
            waiters = db.blocking.get(key)
            if waiters is not None:
                try:
                    waiters.remove(client)
                except ValueError:
                    pass
                if not waiters:
                    del db.blocking[key]

    def key_ready(self, db: "Database", key: bytes) -> None:
        self.ready[(db.index, key)] = db

    def timeout(self, client: Client) -> None:
        state = client.blocked
        if state is None:
            return
        self.unpark(client)
        self._finish(client, state.timeout_reply)
        self.server.flush()

    def unblock(self, client: Client, reply: Any) -> None:
        """CLIENT UNBLOCK, deleted keys in 7.0 semantics, shutdown: answer ``reply`` now."""
        if client.blocked is None:
            return
        self.unpark(client)
        self._finish(client, reply)

    def _finish(self, client: Client, reply: Any) -> None:
        client.reply(reply)
        self.server.resume_soon(client)

    def serve_ready(self) -> None:
        """Serve clients blocked on keys written since the last call (FIFO per key)."""
        while self.ready:
            (_, key), db = next(iter(self.ready.items()))
            del self.ready[(db.index, key)]
            waiters = db.blocking.get(key)
            if not waiters:
                continue
            # A key already gone (DEL, FLUSHALL) is re-run for every waiter: 7.0 answers
            # XREADGROUP with an error then.
            present = key in db.data
            for client in list(waiters):
                state = client.blocked
                if state is None or state.db is not db:
                    continue
                self.serving_key = key
                try:
                    reply = self.rerun(client, state.argv)
                finally:
                    self.serving_key = None
                if reply is BLOCKED:
                    if present and key not in db.data:
                        # Emptied (a list or zset popped dry): later waiters on it
                        # would only block again, so stop re-running them.
                        break
                    continue
                self.unpark(client)
                self._finish(client, reply)
