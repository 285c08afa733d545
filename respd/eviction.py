"""maxmemory: key eviction before each command, the OOM refusal, access clocks, and
client eviction (maxmemory-clients), as Redis 7.0's evict.c and processCommand do them.

- ``Evictor.admit`` runs in dispatch.execute, after authentication and before MULTI
  queueing, only while ``server.maxmemory`` is set (dispatch's fast path is off then).
  It evicts like performEvictions: while used memory (respd.memory) exceeds the limit,
  pick a key by the policy and delete it, within a time budget set by
  maxmemory-eviction-tenacity; past the budget a background task goes on and the
  command runs.  If nothing can be freed, commands flagged denyoom (and anything
  queued in MULTI, and EXEC of a transaction holding one) get -OOM.
- LRU/LFU policies choose among sampled keys through a pool of the 16 best candidates
  (evictionPoolPopulate); random policies pick a random key, volatile-* only keys with
  a TTL (sampled from the expiry heap), volatile-ttl the soonest to expire.
- Access clocks live in each database's ``clocks`` (storage.db) only while the policy is
  an LRU or LFU one: an LRU clock is Redis's 24-bit seconds; an LFU value packs the
  16-bit minute of the last decrement and the 8-bit log counter.  Both are shared int
  objects (one per second, 256 per minute), so a clock costs a dict entry and no object.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, Any

from respd import errors
from respd.client import REPLY_OFF
from respd.config import on_config_set
from respd.errors import ReplyError
from respd.memory import Accounting, client_memory, dataset

if TYPE_CHECKING:
    from respd.client import Client
    from respd.command import Command
    from respd.server import Server
    from respd.storage.db import Database

log = logging.getLogger("respd")

LRU_CLOCK_MAX = (1 << 24) - 1
LFU_INIT_VAL = 5
POOL_SIZE = 16  # EVPOOL_SIZE
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
# Commands a client in MULTI may still send when out of memory (processCommand).
_MULTI_ALLOWED = frozenset({"exec", "discard", "quit", "reset"})
_SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})


def lru_clock() -> int:
    return int(time.time()) & LRU_CLOCK_MAX


def idle_ms(clock: int, now: int) -> int:
    """estimateObjectIdleTime: the clock wraps every 194 days."""
    if now >= clock:
        return (now - clock) * 1000
    return (now + LRU_CLOCK_MAX - clock) * 1000


class LruAccess:
    """Access clocks for the LRU policies: the current second, shared by every key
    touched in it."""

    lfu = False

    def __init__(self) -> None:
        self.now = lru_clock()

    def tick(self) -> None:
        now = lru_clock()
        if now != self.now:
            self.now = now

    def fresh(self) -> int:
        return self.now

    def touch(self, clocks: dict[bytes, int], key: bytes) -> None:
        clocks[key] = self.now


class LfuAccess:
    """Access clocks for the LFU policies (updateLFU): decay by elapsed periods of
    lfu-decay-time minutes, then a logarithmic, probabilistic increment."""

    lfu = True

    def __init__(self, server: "Server") -> None:
        self.config = server.config
        self.minute = -1
        self.values: list[int] = []
        self.tick()

    def tick(self) -> None:
        minute = (int(time.time()) // 60) & 0xFFFF
        if minute != self.minute:
            self.minute = minute
            self.values = [minute << 8 | counter for counter in range(256)]

    def fresh(self) -> int:
        return self.values[LFU_INIT_VAL]

    def decayed(self, packed: int) -> int:
        """LFUDecrAndReturn: the counter less one per decay period since its minute."""
        counter = packed & 255
        period = self.config.lfu_decay_time
        if period:
            then, now = packed >> 8, self.minute
            elapsed = now - then if now >= then else 0xFFFF - then + now
            counter = max(counter - elapsed // period, 0)
        return counter

    def touch(self, clocks: dict[bytes, int], key: bytes) -> None:
        counter = self.decayed(clocks.get(key, self.values[LFU_INIT_VAL]))
        if counter < 255:
            base = max(counter - LFU_INIT_VAL, 0)
            if random.random() < 1.0 / (base * self.config.lfu_log_factor + 1):
                counter += 1
        clocks[key] = self.values[counter]


def _policy_access(server: "Server", policy: str) -> Any:
    if policy.endswith("-lru"):
        return LruAccess()
    if policy.endswith("-lfu"):
        return LfuAccess(server)
    return None


class Evictor:
    """The server's maxmemory machinery (one per server: ``server.memory``)."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.accounting = Accounting(server)
        self.access: Any = None
        self.pool: dict[tuple[int, bytes], int] = {}  # candidates: (db index, key) -> score
        self.next_db = 0
        self.pre_command_oom = False  # processCommand's pre_command_oom_state
        self.background: Any = None  # the timer of an eviction that ran out of time
        self.exceeded_since = 0.0  # when used memory first went over (stats)
        self.exceeded_total = 0.0
        # clientsCronTrackExpansiveClients: the biggest (query, output) buffers seen in
        # each of the last 8 seconds.
        self.client_peaks: dict[int, tuple[int, int]] = {}
        self.limits_changed()
        self.policy_changed(server.config.maxmemory_policy)

    # --- configuration ----------------------------------------------------------------------

    def policy_changed(self, policy: str) -> None:
        """Start, switch or stop access tracking; samplers are rebuilt on demand.
        Between LRU and LFU the clocks stay and are read the other way, as Redis's
        per-object bits are (it says so in OBJECT's errors); keys that had none start
        with the LRU clock's value, which Redis's objects carry outside LRU/LFU."""
        access = _policy_access(self.server, policy)
        self.pool = {}
        for db in self.server.dbs:
            db.sampler = None
            db.access = access
            if access is None:
                db.clocks = None
            elif db.clocks is None:
                db.clocks = dict.fromkeys(db.data, access.fresh() if not access.lfu
                                          else lru_clock())
        self.access = access

    def limits_changed(self) -> None:
        """Mirror the limits where dispatch reads them (its fast path is off while any
        is set)."""
        server = self.server
        server.maxmemory = server.config.maxmemory
        server.memory_limited = bool(server.maxmemory or self.clients_limit())
        self.accounting.changed()

    def maxmemory_changed(self, value: int) -> None:
        self.limits_changed()
        if value:
            used = self.accounting.used()
            if used > value:
                log.warning("WARNING: the new maxmemory value set via CONFIG SET (%d) is "
                            "smaller than the current memory usage (%d). This will result "
                            "in key eviction and/or the inability to accept new write "
                            "commands depending on the maxmemory-policy.", value, used)
            self._schedule()

    # --- per command ------------------------------------------------------------------------

    def admit(self, client: "Client", cmd: "Command", argv: list[bytes]) -> ReplyError | None:
        """processCommand's maxmemory step: evict, then refuse a command that would
        grow memory when nothing more can be freed.  None lets the command run."""
        if client.loading:  # the AOF is obeyed, like a master (mustObeyClient)
            return None
        server = self.server
        if server.config.maxmemory_clients:
            self.evict_clients()
            if client.close_after_reply:
                return None  # evicted itself: it is answered nothing and closed
        if not server.maxmemory:
            return None
        out_of_memory = self.perform(client.db) == EVICT_FAIL
        self.pre_command_oom = out_of_memory
        if not out_of_memory:
            return None
        name = cmd.name
        reject = self._denyoom(client, cmd, argv)
        if client.multi is not None:
            if name not in _MULTI_ALLOWED:
                reject = True  # queueing could grow memory without bound
            elif name == "exec" and not reject:
                reject = any(self._denyoom(client, c, a) for c, a in client.multi)
        # dispatch's rejection dooms the transaction and wraps an EXEC's error
        return errors.OOM if reject else None

    def _denyoom(self, client: "Client", cmd: "Command", argv: list[bytes]) -> bool:
        """getCommandFlags' denyoom: a script declaring flags is denyoom unless it says
        allow-oom or no-writes (scriptFlagsToCmdFlags)."""
        if cmd.name in _SCRIPT_COMMANDS and len(argv) > 1:
            flags = _script_flags(self.server, cmd.name, argv[1])
            if flags is not None:
                return not flags & {b"allow-oom", b"no-writes"}
        return cmd.denyoom

    def script_refuses(self, caller: "Client", wrote: bool) -> bool:
        """scriptVerifyOOM for a script without flags: its first write of a denyoom
        command is refused when the script started out of memory."""
        return (bool(self.server.maxmemory) and self.pre_command_oom and not wrote
                and not caller.loading)

    # --- performEvictions ---------------------------------------------------------------------

    def _safe(self) -> bool:
        """isSafeToPerformEvictions: not while clients are paused (the dataset must
        stay still) nor while a busy script serves other clients."""
        server = self.server
        if server.pause.until_ms and server.pause.until_ms > server.now_ms():
            return False
        engine = server.scripts
        return not (engine is not None and engine.busy)

    def perform(self, current: "Database | None" = None) -> int:
        server = self.server
        limit = server.maxmemory
        if not limit:
            return EVICT_OK
        accounting = self.accounting
        used = accounting.for_eviction(current if current is not None else server.dbs[0])
        if used <= limit:
            if self.exceeded_since:
                self.exceeded_total += time.monotonic() - self.exceeded_since
                self.exceeded_since = 0.0
            return EVICT_OK
        if not self._safe():
            return EVICT_OK
        if not self.exceeded_since:
            self.exceeded_since = time.monotonic()
        if server.config.maxmemory_policy == "noeviction":
            return EVICT_FAIL
        to_free = used - limit
        freed = 0
        deadline = time.perf_counter() + self._time_limit()
        evicted = 0
        while freed < to_free:
            found = self._pick()
            if found is None:
                return EVICT_FAIL  # nothing left that the policy may evict
            db, key = found
            before = dataset(db)
            self._evict(db, key)
            freed += before - dataset(db)
            evicted += 1
            if evicted % 16 == 0 and time.perf_counter() > deadline:
                # Out of time: go on in the background, let this command run.
                self._schedule()
                return EVICT_RUNNING
        return EVICT_OK

    def _time_limit(self) -> float:
        """evictionTimeLimitUs, in seconds: 50 µs per tenacity step up to 10, then
        15% more per step, unlimited at 100."""
        tenacity = self.server.config.maxmemory_eviction_tenacity
        if tenacity <= 10:
            return 50e-6 * tenacity
        if tenacity < 100:
            return 500e-6 * 1.15 ** (tenacity - 10)
        return float("inf")

    def _schedule(self) -> None:
        loop = self.server.loop
        if self.background is None and loop is not None:
            self.background = loop.call_later(0, self._background)

    def _background(self) -> None:
        """evictionTimeProc: keep evicting between commands until under the limit."""
        self.background = None
        if self.perform() == EVICT_RUNNING:
            self._schedule()
        if self.server.propagated:
            self.server.propagate_pending()

    def _evict(self, db: "Database", key: bytes) -> None:
        """Delete key as an eviction: stats, DEL to the AOF, 'evicted' event."""
        server = self.server
        db.delete(key)
        server.stats["evicted_keys"] += 1
        server.propagated.append((db.index, [b"DEL", key]))
        db.notify("e", b"evicted", key)

    # --- choosing a key ----------------------------------------------------------------------

    def _pick(self) -> tuple["Database", bytes] | None:
        policy = self.server.config.maxmemory_policy
        dbs = self.server.dbs
        volatile = policy.startswith("volatile")
        if policy.endswith("random"):
            for _ in range(len(dbs)):
                self.next_db = (self.next_db + 1) % len(dbs)
                db = dbs[self.next_db]
                keys = self._sample(db, volatile, 1)
                if keys:
                    return db, keys[0]
                if db.expires if volatile else db.data:  # only stale picks: any will do
                    return db, next(iter(db.expires if volatile else db.data))
            return None
        samples = self.server.config.maxmemory_samples
        pool = self.pool
        score = pool.__getitem__
        while True:  # until a live candidate is found or nothing is left
            total = 0
            for db in dbs:
                if db.expires if volatile else db.data:
                    total += 1
                    self._populate(db, volatile, policy, samples)
            if not total:
                return None
            while pool:  # the best candidate first; some may be gone meanwhile
                best = max(pool, key=score)
                del pool[best]
                index, key = best
                db = dbs[index]
                if key in (db.expires if volatile else db.data):
                    return db, key
            for db in dbs:  # sampling met only stale heap entries: any key will do
                keys = db.expires if volatile else db.data
                if keys:
                    return db, next(iter(keys))

    def _sample(self, db: "Database", volatile: bool, count: int) -> list[bytes]:
        """Up to ``count`` random live keys (with a TTL when volatile).  The arrays
        sampled keep deleted keys until rebuilt at twice their live size, so a pick
        is live at least half the time; dead picks are dropped."""
        if volatile:
            if len(db._heap) > 2 * len(db.expires):
                db._rebuild_heap()
            expires = db.expires
            picks = random.choices(db._heap, k=count) if db._heap else []
            return [key for when, key in picks if expires.get(key) == when]
        sampler = db.sampler
        data = db.data
        if sampler is None or len(sampler) > 2 * len(data) + 1024:
            sampler = db.sampler = list(data)
        if not sampler:
            return []
        return [key for key in random.choices(sampler, k=count) if key in data]

    def _populate(self, db: "Database", volatile: bool, policy: str, samples: int) -> None:
        """evictionPoolPopulate: score sampled keys (higher = evict first) and keep the
        best POOL_SIZE candidates: {(db index, key): score}."""
        keys = self._sample(db, volatile, samples)
        access = self.access
        if policy == "volatile-ttl":
            expires = db.expires
            scores = [-expires[k] for k in keys]
        elif access is None:
            scores = [0] * len(keys)
        elif access.lfu:
            get = db.clocks.get  # type: ignore[union-attr]
            scores = [255 - access.decayed(get(k, 0)) for k in keys]
        else:
            get, now = db.clocks.get, access.now  # type: ignore[union-attr]
            scores = [idle_ms(get(k, now), now) for k in keys]
        pool = self.pool
        index = db.index
        worst: tuple[int, bytes] | None = None
        for key, score in zip(keys, scores):
            entry = (index, key)
            if entry in pool:
                continue
            if len(pool) < POOL_SIZE:
                pool[entry] = score
                worst = None
                continue
            if worst is None:
                worst = min(pool, key=pool.__getitem__)
            if score > pool[worst]:
                del pool[worst]
                pool[entry] = score
                worst = None

    # --- clients ------------------------------------------------------------------------------

    def clients_limit(self) -> int:
        raw = self.server.config.maxmemory_clients
        if isinstance(raw, str):  # a percentage of maxmemory
            return self.server.maxmemory * int(raw[:-1]) // 100
        return raw

    def evict_clients(self) -> None:
        """evictClients: while the clients' memory is over maxmemory-clients, close the
        biggest evictable one (not CLIENT NO-EVICT)."""
        limit = self.clients_limit()
        if not limit:
            return
        server = self.server
        usage = [(client_memory(c), c) for c in server.clients.values()
                 if c.transport is not None and not c.closed and not c.close_after_reply]
        total = sum(size for size, _ in usage)
        if total < limit:
            return
        candidates = sorted(((size, c.id, c) for size, c in usage if not c.no_evict),
                            key=lambda t: (t[0], t[1]), reverse=True)
        for size, _, client in candidates:
            if total < limit:
                break
            log.debug("Evicting client: id=%d addr=%s", client.id, client.addr.decode())
            server.stats["evicted_clients"] = server.stats.get("evicted_clients", 0) + 1
            # Closed by the next flush, with nothing more written: not even a reply
            # to a command of its own being processed now.
            client.close_after_reply = True
            client.reply_mode = REPLY_OFF
            client.out.clear()
            server.pending_writes[client] = None
            total -= size

    # --- periodic -----------------------------------------------------------------------------

    def cron(self) -> None:
        """serverCron's share: the clocks tick, the peak is kept current, clients are
        evicted if over maxmemory-clients, and their recent maxima sampled (one slot per
        second over 8 s).  Keys are evicted only before commands, as in Redis."""
        if self.access is not None:
            self.access.tick()
        server = self.server
        biggest_in = biggest_out = 0
        for client in server.clients.values():
            if client.transport is not None:
                biggest_in = max(biggest_in, client.reader.buffered())
                biggest_out = max(biggest_out, sum(len(c) for c in client.out)
                                  + client.transport.get_write_buffer_size())
        second = int(time.time())
        old_in, old_out = self.client_peaks.get(second, (0, 0))
        self.client_peaks[second] = (max(old_in, biggest_in), max(old_out, biggest_out))
        for stale in [s for s in self.client_peaks if s <= second - 8]:
            del self.client_peaks[stale]
        if server.config.maxmemory_clients:
            self.evict_clients()
        if server.maxmemory:
            self.accounting.used()  # keeps the peak current between INFOs

    def exceeded_times(self) -> list[tuple[str, int]]:
        """total_/current_eviction_exceeded_time: ms spent over maxmemory."""
        current = time.monotonic() - self.exceeded_since if self.exceeded_since else 0.0
        return [("total_eviction_exceeded_time", int((self.exceeded_total + current) * 1000)),
                ("current_eviction_exceeded_time", int(current * 1000))]

    def recent_max(self) -> tuple[int, int]:
        """client_recent_max_input_buffer / _output_buffer."""
        peaks = self.client_peaks.values()
        return max((p[0] for p in peaks), default=0), max((p[1] for p in peaks), default=0)


def _script_flags(server: "Server", name: str, ref: bytes) -> set[bytes] | None:
    """The flags a script or function declared, or None for an EVAL script without a
    shebang (or one not found: the command itself reports that)."""
    from respd.scripting import engine_for, parse_shebang

    engine = engine_for(server)
    if name.startswith("fcall"):
        function = engine.functions.get(ref)
        return None if function is None else set(function.flags)
    if name.startswith("evalsha"):
        script = engine.scripts.get(ref.lower())
        if script is None or not script.shebang:
            return None
        return ({b"allow-oom"} if script.allow_oom else set()) | (
            {b"no-writes"} if script.no_writes else set())
    return parse_shebang(ref)[1]


# --- configuration hooks ----------------------------------------------------------------------


def _maxmemory_changed(server: "Server", value: int) -> None:
    server.memory.maxmemory_changed(value)


def _policy_changed(server: "Server", value: str) -> None:
    server.memory.policy_changed(value)


def _clients_limit_changed(server: "Server", value: Any) -> None:
    server.memory.limits_changed()


on_config_set("maxmemory", _maxmemory_changed)
on_config_set("maxmemory-clients", _clients_limit_changed)
on_config_set("maxmemory-policy", _policy_changed)

