"""The HTTP listener: Prometheus ``/metrics`` and the live console at ``/``, served by
aiohttp in the server's own process and event loop (no thread: a scrape reads the
server's structures between two commands, as INFO does).

Off unless ``http-port`` is set; bound to ``http-bind`` (loopback by default).  When the
default user needs a password (``requirepass``) or is off, every request must carry HTTP
basic auth for an enabled ACL user (user name and password as for AUTH).

The console is one static page (``respd/console/``) that opens ``/events``, a
server-sent-events stream carrying a JSON snapshot every second: channels, streams and
their groups, queues, clients, memory, command rates over the last minutes, the slow log.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import BasicAuth, web

from respd import info
from respd.metrics import QUEUE_TYPES, Metrics, id_ms
from respd.storage.stream import Stream, format_id

if TYPE_CHECKING:
    from respd.server import Server

STATIC = Path(__file__).with_name("console")
HISTORY_SECONDS = 300  # the console's charts: the last five minutes, a point a second
CONSOLE_ROWS = 200  # rows per table in a console snapshot
PUSH_EVERY = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpListener:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.metrics = Metrics(server)
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_SECONDS)
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._sampler: asyncio.TimerHandle | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/", self._index)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/api/snapshot", self._snapshot)
        app.router.add_get("/events", self._events)
        app.router.add_static("/static/", STATIC)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        config = self.server.config
        site = web.TCPSite(self._runner, config.http_bind, config.http_port,
                           reuse_address=True)
        await site.start()
        addresses = self._runner.addresses  # (host, port, ...) of the bound sockets
        self.port = addresses[0][1] if addresses else config.http_port
        self.metrics.start()
        self._sample()

    async def stop(self) -> None:
        self.metrics.stop()
        if self._sampler is not None:
            self._sampler.cancel()
        for task in list(self._streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- access ------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        default = self.server.acl.default
        if default.enabled and default.nopass:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        try:
            creds = BasicAuth.decode(header) if header else None
        except (ValueError, binascii.Error):
            creds = None
        if creds is not None:
            user = self.server.acl.get(creds.login.encode())
            if user is not None and user.enabled and user.check_password(
                    creds.password.encode()):
                return await handler(request)
        return web.Response(status=401, text="authentication required\n",
                            headers={"WWW-Authenticate": 'Basic realm="respd"'})

    # --- routes ------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        body = await self.metrics.exposition()
        return web.Response(body=body, headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.snapshot())

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            while True:
                data = json.dumps(self.snapshot(), separators=(",", ":"))
                await response.write(f"data: {data}\n\n".encode())
                await asyncio.sleep(PUSH_EVERY)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(task)
        return response

    # --- the console's data ------------------------------------------------------------

    def _sample(self) -> None:
        """A history point a second: the totals the charts turn into rates."""
        server = self.server
        stats = server.stats
        self.history.append({
            "t": time.time(),
            "commands": info.total_commands(server),
            "memory": server.memory.accounting.used(),
            "clients": len(server.clients),
            "published": stats["pubsub_published"],
            "dropped": stats["pubsub_dropped"],
        })
        assert server.loop is not None
        self._sampler = server.loop.call_later(1.0, self._sample)

    def snapshot(self) -> dict[str, Any]:
        server = self.server
        now = server.now_ms()
        pubsub = server.pubsub
        channels = []
        names = list(dict.fromkeys([*(pubsub.channel_stats or {}), *pubsub.channels]))
        for name in names[:CONSOLE_ROWS]:
            published, delivered, dropped = (pubsub.channel_stats or {}).get(name, (0, 0, 0))
            channels.append({"name": name.decode("utf-8", "replace"),
                             "subscribers": len(pubsub.channels.get(name, ())),
                             "published": published, "delivered": delivered,
                             "dropped": dropped})
        streams, queues = [], []
        for index, key in self.metrics.sweep.tracked:
            value = server.dbs[index].data.get(key)
            name = key.decode("utf-8", "replace")
            if type(value) is Stream and len(streams) < CONSOLE_ROWS:
                streams.append(_stream_row(index, name, value, now))
            elif type(value) in QUEUE_TYPES and len(queues) < CONSOLE_ROWS:
                waiters = server.dbs[index].blocking.get(key, ())
                queues.append({"db": index, "key": name, "type": QUEUE_TYPES[type(value)],
                               "depth": len(value), "blocked": len(waiters)})
        shown = {(q["db"], q["key"]) for q in queues}
        for db in server.dbs:  # consumers blocked on a queue that is empty (no key yet)
            for key, waiters in list(db.blocking.items())[:CONSOLE_ROWS]:
                name = key.decode("utf-8", "replace")
                if (db.index, name) not in shown and len(queues) < CONSOLE_ROWS:
                    value = db.data.get(key)
                    queues.append({"db": db.index, "key": name,
                                   "type": QUEUE_TYPES.get(type(value), "-"),
                                   "depth": len(value) if value is not None else 0,
                                   "blocked": len(waiters)})
        slowlog = [{"id": e[0], "time": e[1], "usec": e[2],
                    "args": [a.decode("utf-8", "replace") for a in e[3]],
                    "addr": e[4].decode("latin-1"), "name": e[5].decode("utf-8", "replace")}
                   for e in server.slowlog[:20]]
        return {
            "time": time.time(),
            "clients": len(server.clients),
            "blocked_clients": server.blocking.blocked_count,
            "memory": server.memory.accounting.used(),
            "published": server.stats["pubsub_published"],
            "dropped": server.stats["pubsub_dropped"],
            "channels": channels, "streams": streams, "queues": queues,
            "slowlog": slowlog, "history": list(self.history),
        }


def _stream_row(index: int, name: str, stream: Stream, now: int) -> dict[str, Any]:
    groups = []
    for group_name, group in stream.groups.items():
        oldest = (now - id_ms(group.pel.peekitem(0)[0])) / 1000 if group.pel else 0.0
        groups.append({
            "name": group_name.decode("utf-8", "replace"),
            "lag": stream.lag(group), "pending": len(group.pel),
            "last_delivered": format_id(group.last_id).decode(),
            "oldest_pending_seconds": max(oldest, 0.0),
            "consumers": [{"name": c.name.decode("utf-8", "replace"),
                           "pending": len(c.pel),
                           "idle_seconds": max(now - c.seen_time, 0) / 1000}
                          for c in group.consumers.values()],
        })
    return {"db": index, "key": name, "length": stream.length,
            "last_id": format_id(stream.last_id).decode(), "groups": groups}


__all__ = ["HttpListener"]
