"""Client-side caching (CLIENT TRACKING): who read which key, and the invalidations.

Default mode: the keys a tracking client reads (read-only commands, through
``dispatch.call``) go into one table, key -> ids of the clients that may cache it; the
table is shared by all databases, as Redis's.  A write to a key (``Database.modified``)
sends an invalidation to those clients and forgets the key.  BCAST mode: nothing is
remembered; a modified key matching a client's prefix is collected and broadcast once
per event-loop pass, as Redis does in beforeSleep.  FLUSHDB/FLUSHALL send a null
invalidation to every tracking client.

Messages reach a RESP3 client as ``>2 invalidate [keys]`` pushes; a client redirecting
(REDIRECT id) has them delivered to the target, which gets a push in RESP3 or, in RESP2,
a ``__redis__:invalidate`` message if it subscribed to that channel.

An invalidation for the client running the current command waits until its reply is
queued (Redis's tracking_pending_keys); a tracking client therefore leaves dispatch's
fast path (``dispatch._plain_state``) and runs through ``Tracking.execute``.  Nothing of
this costs anything while nobody tracks: ``Server.tracking_reads`` (read by ``call``)
and ``Database.tracking`` (read by writes) stay falsy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from respd import errors
from respd.resp import NO_REPLY, encode
from respd.client import REPLY_ON, REPLY_SKIP

if TYPE_CHECKING:
    from respd.client import Client
    from respd.command import Command
    from respd.server import Server

CHANNEL = b"__redis__:invalidate"
_NULL = object()  # the flush invalidation in the pending list


class ClientTracking:
    """One client's CLIENT TRACKING options (``Client.tracking`` while on)."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "prefixes", "caching",
                 "broken")

    def __init__(self) -> None:
        self.redirect = 0
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.prefixes: list[bytes] = []
        self.caching: bool | None = None  # CLIENT CACHING yes/no for the next command
        self.broken = False  # the redirection target went away (flag R)


class Tracking:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.table: dict[bytes, dict[int, None]] = {}
        self.items = 0  # client ids summed over the table (tracking_total_items)
        # BCAST prefix -> {client: None}, and keys modified per prefix (with the writer).
        self.prefixes: dict[bytes, dict["Client", None]] = {}
        self.bcast_pending: dict[bytes, dict[bytes, Any]] = {}
        self.bcast_scheduled = False
        self.current: "Client | None" = None  # the tracking client running a command
        self.pending: list[Any] = []  # its own invalidations, sent after its reply
        self.clients = 0

    # --- switching on and off -------------------------------------------------------

    def enable(self, client: "Client", state: ClientTracking) -> None:
        if client.tracking is None:
            self.clients += 1
        client.tracking = state
        for prefix in state.prefixes:
            self.prefixes.setdefault(prefix, {})[client] = None
        self._switches()

    def disable(self, client: "Client") -> None:
        state = client.tracking
        if state is None:
            return
        for prefix in state.prefixes:
            clients = self.prefixes.get(prefix)
            if clients is not None:
                clients.pop(client, None)
                if not clients:
                    del self.prefixes[prefix]
                    self.bcast_pending.pop(prefix, None)
        client.tracking = None
        self.clients -= 1
        self._switches()

    def _switches(self) -> None:
        """The flags the hot paths test: reads recorded while a default-mode client
        exists; writes reported while anything may need an invalidation."""
        server = self.server
        server.tracking_reads = any(
            c.tracking is not None and not c.tracking.bcast for c in server.clients.values())
        watching = self if (self.clients or self.table) else None
        for db in server.dbs:
            db.tracking = watching

    # --- running a tracking client's command --------------------------------------------

    def execute(self, client: "Client", cmd: "Command", argv: list[bytes],
                call: Callable[..., Any], after: Callable[[Any], None]) -> Any:
        """dispatch.execute's call for a tracking client: its own invalidations follow
        its reply, and CLIENT CACHING lasts one command (or one transaction)."""
        self.current = client
        try:
            reply = call(client, cmd, argv)
            after(self.server)
        finally:
            self.current = None
        state = client.tracking
        if state is not None and client.multi is None \
                and not cmd.name.startswith("client|"):  # as Redis: CLIENT keeps it
            state.caching = None
        if not self.pending:
            return reply
        # Redis's tracking_pending_keys: the client's own invalidations after its reply.
        pending, self.pending = self.pending, []
        if client.reply_mode == REPLY_SKIP:
            client.reply_mode = REPLY_ON
        elif client.reply_mode == REPLY_ON and reply is not NO_REPLY:
            client.out.append(encode(reply, client.resp))
        for key in pending:
            self._send(client, None if key is _NULL else [key])
        return NO_REPLY

    # --- reads ------------------------------------------------------------------------

    def remember(self, client: "Client", cmd: "Command", argv: list[bytes]) -> None:
        """trackingRememberKeys: a read-only command's keys, for the tracking client
        running it (a script's caller)."""
        if client.in_script:
            scripts = self.server.scripts
            client = scripts.caller if scripts is not None else None
            if client is None:
                return
        state = client.tracking
        if state is None or state.bcast:
            return
        if state.optin and not state.caching:
            return
        if state.optout and state.caching is False:
            return
        table = self.table
        ident = client.id
        for pos in cmd.key_positions(argv):
            key = argv[pos]
            ids = table.get(key)
            if ids is None:
                table[key] = ids = {}
            if ident not in ids:
                ids[ident] = None
                self.items += 1
        limit = self.server.config.tracking_table_max_keys
        if limit and len(table) > limit:
            self._shrink(limit)

    def _shrink(self, limit: int) -> None:
        """tracking-table-max-keys: evict keys, invalidating them, down to the limit."""
        while len(self.table) > limit:
            self.invalidate(next(iter(self.table)), evicting=True)

    # --- writes -------------------------------------------------------------------------

    def invalidate(self, key: bytes, evicting: bool = False) -> None:
        """trackingInvalidateKey: tell the clients caching key, forget it."""
        if self.prefixes:
            self._collect_bcast(key)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = self.server.clients
        current = self.current
        for ident in ids:
            target = clients.get(ident)
            if target is None or target.tracking is None or target.tracking.bcast:
                continue
            if target is current:
                if target.tracking.noloop and not evicting:
                    continue
                self.pending.append(key)
                continue
            self._send(target, [key])

    def _collect_bcast(self, key: bytes) -> None:
        for prefix in self.prefixes:
            if key.startswith(prefix):
                self.bcast_pending.setdefault(prefix, {})[key] = self.current
        if self.bcast_pending and not self.bcast_scheduled and self.server.loop is not None:
            self.bcast_scheduled = True
            self.server.loop.call_soon(self.broadcast)

    def broadcast(self) -> None:
        """trackingBroadcastInvalidationMessages: one message per client and prefix."""
        self.bcast_scheduled = False
        pending, self.bcast_pending = self.bcast_pending, {}
        for prefix, keys in pending.items():
            for client in self.prefixes.get(prefix, ()):
                state = client.tracking
                if state is None:
                    continue
                sent = [k for k, writer in keys.items()
                        if not (state.noloop and writer is client)]
                if sent:
                    self._send(client, sent)
        self.server.flush()

    def flushed(self) -> None:
        """FLUSHDB/FLUSHALL: a null invalidation to every tracking client; the table
        is emptied."""
        self.table = {}
        self.items = 0
        for client in list(self.server.clients.values()):
            if client.tracking is None:
                continue
            if client is self.current:
                self.pending.append(_NULL)
            else:
                self._send(client, None)

    def _send(self, client: "Client", keys: list[bytes] | None) -> None:
        """sendTrackingMessage: to the client, or to its redirection target."""
        state = client.tracking
        target = client
        if state is not None and state.redirect:
            target = self.server.clients.get(state.redirect)
            if target is None:
                state.broken = True
                if client.resp > 2:  # RESP2 has no way to say it
                    client.push(b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % state.redirect)
                return
        # The flush's null is written in the tracking client's protocol, as Redis does.
        body = encode(keys, target.resp) if keys is not None else (
            b"_\r\n" if client.resp > 2 else b"$-1\r\n")
        if target.resp > 2:
            target.push(b">2\r\n$10\r\ninvalidate\r\n" + body)
        elif CHANNEL in target.channels:
            target.push(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n" + body)

    def client_gone(self, client: "Client") -> None:
        """A closing client stops tracking; its ids in the table are dropped lazily."""
        if client.tracking is not None:
            self.disable(client)

    # --- CLIENT TRACKINGINFO / INFO -----------------------------------------------------

    def stats(self) -> list[tuple[str, int]]:
        return [("tracking_total_keys", len(self.table)),
                ("tracking_total_items", self.items),
                ("tracking_total_prefixes", len(self.prefixes))]


def parse(client: "Client", argv: list[bytes]) -> ClientTracking | None:
    """CLIENT TRACKING's arguments: the new state, or None for OFF (Redis's errors)."""
    switch = argv[2].lower()
    if switch not in (b"on", b"off"):
        raise errors.SYNTAX
    state = ClientTracking()
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        more = i + 1 < len(argv)
        if opt == b"redirect" and more:
            i += 1
            if state.redirect:
                raise errors.TRACKING_ONE_REDIRECT
            ident = _client_id(argv[i])
            if ident not in client.server.clients:
                raise errors.TRACKING_NO_REDIRECT_TARGET
            state.redirect = ident
        elif opt == b"bcast":
            state.bcast = True
        elif opt == b"optin":
            state.optin = True
        elif opt == b"optout":
            state.optout = True
        elif opt == b"noloop":
            state.noloop = True
        elif opt == b"prefix" and more:
            i += 1
            state.prefixes.append(argv[i])
        else:
            raise errors.SYNTAX
        i += 1
    if switch == b"off":
        return None
    _check(client, state)
    return state


def _client_id(raw: bytes) -> int:
    from respd.numbers import parse_int

    value = parse_int(raw)
    if value is None:
        raise errors.NOT_INTEGER
    return value


def _check(client: "Client", state: ClientTracking) -> None:
    """Redis's checks before enabling, in its order; BCAST prefixes add to the old."""
    old = client.tracking
    if state.prefixes and not state.bcast:
        raise errors.TRACKING_PREFIX_NEEDS_BCAST
    if old is not None and old.bcast != state.bcast:
        raise errors.TRACKING_BCAST_SWITCH
    if state.bcast and (state.optin or state.optout):
        raise errors.TRACKING_BCAST_OPT
    if state.optin and state.optout:
        raise errors.TRACKING_OPTIN_OPTOUT
    if old is not None and ((state.optin and old.optout) or (state.optout and old.optin)):
        raise errors.TRACKING_OPT_SWITCH
    if not state.bcast:
        return
    mine = list(old.prefixes) if old is not None else []
    new = state.prefixes
    for i, prefix in enumerate(new):
        for other in mine:
            if other.startswith(prefix) or prefix.startswith(other):
                raise errors.tracking_prefix_overlap(prefix, other, provided=False)
        for other in new[i + 1:]:
            if other.startswith(prefix) or prefix.startswith(other):
                raise errors.tracking_prefix_overlap(prefix, other, provided=True)
    state.prefixes = mine + (new or ([b""] if not mine else []))
