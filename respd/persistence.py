"""Durability as server machinery: loading the dataset at start-up, background AOF
rewrites and snapshots, their scheduling and their INFO fields (the formats they read
and write are respd.storage.aof, .rdb and .snapshot).

Loading replays base then incr files through the normal dispatch path with a loading
client (no replies, no propagation, no blocking, no expiry while loading).

Rewrite (BGREWRITEAOF, automatic growth-based rewrite, CONFIG SET appendonly yes): the
server switches to a fresh incr file and forks; the child writes the dataset into a
temporary base file; when it succeeds the base is renamed into place and the
manifest swapped atomically (written to a temp file, fsynced, renamed).  Writes made
during the rewrite land in the new incr file, so none is lost whatever happens.

Snapshots (SAVE, BGSAVE in a forked child, the ``save`` points, shutdown) are RDB files
(respd.storage.rdb), loaded at start-up when appendonly is off.  ``Persistence`` owns
all of this state and reports it to INFO.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from respd import errors
from respd.config import on_config_set
from respd.dispatch import execute
from respd.errors import ReplyError
from respd.storage import rdb, snapshot
from respd.storage.aof import (AofFile, AofLoadError, AppendOnlyFile, BadFormat, Manifest,
                               Truncated, read_command)

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

log = logging.getLogger("respd")

BGSAVE_RETRY_DELAY = 5  # seconds, Redis's CONFIG_BGSAVE_RETRY_DELAY
REWRITE_TEMP_PREFIX = "temp-rewriteaof-bg-"


# --- loading -----------------------------------------------------------------------------


class Loader:
    """Replays AOF files through dispatch with a client that cannot block or reply."""

    PROGRESS_EVERY = 2.0  # seconds between progress log lines

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.client: Client = server.new_client()
        self.client.loading = True
        self.client.deny_blocking = True
        self.client.authenticated = True
        self.client.acl_restricted = False  # Redis's AOF client has no user: no ACL checks
        self.entries = 0
        self.loaded_bytes = 0
        self.started = time.monotonic()
        self.next_report = self.started + self.PROGRESS_EVERY

    def run(self, argv: list[bytes], name: str) -> None:
        reply = execute(self.client, argv)
        if type(reply) is ReplyError and reply.line.startswith(b"ERR unknown command"):
            raise AofLoadError(f"Unknown command '{argv[0].decode('latin-1')}' reading "
                               f"the append only file {name}")
        self.entries += 1

    def load_file(self, path: str, name: str, last: bool) -> None:
        size = os.path.getsize(path)
        if size == 0:
            return
        with open(path, "r+b" if last else "rb") as f:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                start = 0
                if buf[:5] == b"REDIS":  # redis-server's default: an RDB base
                    keys, start = rdb.load(buf[:], self.server,
                                           lambda argv: self.run(argv, name))
                    log.info("Loaded the RDB preamble of %s: %d keys", name, keys)
                valid = self._replay(buf, start, size, name)
            if valid < size:
                self._truncated(f, name, valid, last)

    def _replay(self, buf: Any, pos: int, size: int, name: str) -> int:
        """Run every complete command from ``pos``; returns the offset up to which the
        file is good (before a truncated command or an unfinished MULTI)."""
        valid = pos
        queued: list[list[bytes]] | None = None
        while pos < size:
            try:
                argv, end = read_command(buf, pos, size)
            except Truncated:
                break
            except BadFormat as err:
                raise AofLoadError(
                    f"Bad file format reading the append only file {name} at offset "
                    f"{err.offset} ({err.reason}): make a backup of your AOF file, then "
                    "use ./redis-check-aof --fix <filename.manifest>") from None
            verb = argv[0].lower()
            if queued is not None:
                if verb == b"exec":
                    for queued_argv in queued:
                        self.run(queued_argv, name)
                    queued = None
                    valid = end
                else:
                    queued.append(argv)
            elif verb == b"multi":
                queued = []
            else:
                self.run(argv, name)
                valid = end
            pos = end
            if self.entries & 1023 == 0:
                self._progress(name, pos)
        return valid

    def _progress(self, name: str, pos: int) -> None:
        now = time.monotonic()
        if now < self.next_report:
            return
        self.next_report = now + self.PROGRESS_EVERY
        elapsed = now - self.started
        log.info("Loading %s: %d entries, %.1f MB, %.0f entries/s", name, self.entries,
                 (self.loaded_bytes + pos) / 1e6, self.entries / elapsed if elapsed else 0)

    def _truncated(self, f: Any, name: str, valid: int, last: bool) -> None:
        """A crash mid-write left an incomplete command (or MULTI) at the end."""
        if not last or not self.server.config.aof_load_truncated:
            raise AofLoadError(
                f"Unexpected end of file reading the append only file {name} at offset "
                f"{valid}. You can: 1) Make a backup of your AOF file, then use "
                "./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set "
                "the 'aof-load-truncated' configuration option to yes and restart the server.")
        log.warning("!!! Warning: short read while loading the AOF file %s!!!", name)
        log.warning("!!! Truncating the AOF %s at offset %d !!!", name, valid)
        f.truncate(valid)
        f.flush()
        os.fsync(f.fileno())
        log.warning("AOF %s loaded anyway because aof-load-truncated is enabled", name)


# --- the persistence subsystem -------------------------------------------------------------


@dataclass
class Child:
    """A forked rewrite or save in progress."""

    pid: int
    kind: str  # "aof" or "rdb"
    temp: str
    started: float
    base: AofFile | None = None  # the base an AOF rewrite produces
    new_incr: AofFile | None = None


class Persistence:
    """AOF state, background children, snapshots and their INFO fields."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.manifest = Manifest()
        self.aof_on = False  # appendonly yes and the base is in place
        self.child: Child | None = None
        self.rewrite_scheduled = False
        self.bgsave_scheduled = False
        self.last_rewrite_secs = -1
        self.last_rewrite_ok = True
        self.last_bgsave_ok = True
        self.last_bgsave_secs = -1
        self.rewrites = 0  # successful ones
        self.rewrite_failures = 0  # in a row
        self.saves = 0
        self.last_bgsave_try = 0.0
        self.dirty_at_save = 0
        self.dirty_at_fork = 0
        self.loading = False
        # SHUTDOWN SAVE / NOSAVE set this; None: save when save points are configured.
        self.shutdown_save: bool | None = None

    # --- paths ---

    @property
    def aof_dir(self) -> str:
        return os.path.join(self.server.config.dir, self.server.config.appenddirname)

    def aof_path(self, name: str) -> str:
        return os.path.join(self.aof_dir, name)

    @property
    def manifest_path(self) -> str:
        return self.aof_path(self.server.config.appendfilename + ".manifest")

    @property
    def snapshot_path(self) -> str:
        return os.path.join(self.server.config.dir, self.server.config.dbfilename)

    # --- start-up ---

    def startup(self) -> None:
        """Load the dataset before the server listens; exits on an unreadable AOF."""
        try:
            if self.server.config.appendonly:
                self._load_aof()
                self._open_aof_on_start()
            elif os.path.exists(self.snapshot_path):
                self._load_snapshot()
        except (AofLoadError, rdb.RdbError) as err:
            log.error("%s", err)
            raise SystemExit(1) from None

    def _read_manifest(self) -> bool:
        if not os.path.exists(self.manifest_path):
            return False
        with open(self.manifest_path, encoding="latin-1") as f:
            self.manifest = Manifest.parse(f.read(), self.manifest_path)
        return True

    def _load_aof(self) -> None:
        config = self.server.config
        if not self._read_manifest():
            legacy = os.path.join(config.dir, config.appendfilename)
            if not os.path.exists(legacy):
                return
            self._upgrade_legacy(legacy)
        files = self.manifest.files()
        if not files:
            return
        with _Replay(self) as loader:
            for i, entry in enumerate(files):
                path = self.aof_path(entry.name)
                if not os.path.exists(path):
                    raise AofLoadError(f"The AOF file {entry.name} doesn't exist")
                loader.load_file(path, entry.name, last=i == len(files) - 1)
                loader.loaded_bytes += os.path.getsize(path)
        log.info("DB loaded from append only file: %.3f seconds (%d entries)",
                 time.monotonic() - loader.started, loader.entries)

    def _upgrade_legacy(self, legacy: str) -> None:
        """A pre-7.0 single appendonly.aof in dir becomes the base of the layout."""
        os.makedirs(self.aof_dir, exist_ok=True)
        name = f"{self.server.config.appendfilename}.1.base.aof"
        os.rename(legacy, self.aof_path(name))
        self.manifest = Manifest(AofFile(name, 1, "b"), [], 1, 0)
        self._persist_manifest()
        log.info("Successfully migrated an old-style AOF into the AOF directory")

    def _next_base(self) -> AofFile:
        """The next base file: an RDB (aof-use-rdb-preamble yes, Redis's default) or
        commands."""
        seq = self.manifest.base_seq + 1
        kind = "rdb" if self.server.config.aof_use_rdb_preamble else "aof"
        return AofFile(f"{self.server.config.appendfilename}.{seq}.base.{kind}", seq, "b")

    def _write_base(self, path: str) -> None:
        if path.endswith(".rdb"):
            rdb.save(path, self.server, aof_base=True)
        else:
            snapshot.write_commands_file(path, self.server)

    def _open_aof_on_start(self) -> None:
        """Redis 7.0 on a fresh start writes a base (of the empty dataset) and the first
        incr file."""
        os.makedirs(self.aof_dir, exist_ok=True)
        name = self.server.config.appendfilename
        manifest = self.manifest
        if manifest.base is None and not manifest.incrs:
            manifest.base = self._next_base()
            manifest.base_seq = manifest.base.seq
            self._write_base(self.aof_path(manifest.base.name))
            log.info("Creating AOF base file %s on server start", manifest.base.name)
        if not manifest.incrs:
            manifest.incr_seq += 1
            manifest.incrs.append(AofFile(f"{name}.{manifest.incr_seq}.incr.aof",
                                          manifest.incr_seq, "i"))
            log.info("Creating AOF incr file %s on server start", manifest.incrs[-1].name)
        incr = self.aof_path(manifest.incrs[-1].name)
        open(incr, "ab").close()
        self._persist_manifest()
        for stale in os.listdir(self.aof_dir):  # a rewrite cut short by a crash
            if stale.startswith(REWRITE_TEMP_PREFIX):
                _remove(self.aof_path(stale))
        self.server.aof = AppendOnlyFile(self.server, incr, self._aof_size())
        self.aof_on = True

    def _aof_size(self) -> int:
        return sum(os.path.getsize(self.aof_path(f.name)) for f in self.manifest.files()
                   if os.path.exists(self.aof_path(f.name)))

    def _persist_manifest(self) -> None:
        temp = self.aof_path("temp-" + os.path.basename(self.manifest_path))
        with open(temp, "wb") as f:
            f.write(self.manifest.render())
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.manifest_path)
        snapshot.fsync_dir(self.aof_dir)

    def _load_snapshot(self) -> None:
        name = self.server.config.dbfilename
        with open(self.snapshot_path, "rb") as f:
            data = f.read()
        with _Replay(self) as loader:
            keys, _ = rdb.load(data, self.server, lambda argv: loader.run(argv, name))
        log.info("Done loading RDB, keys loaded: %d", keys)
        log.info("DB loaded from disk: %.3f seconds", time.monotonic() - loader.started)

    # --- CONFIG SET appendonly ---

    def set_appendonly(self, on: bool) -> None:
        server = self.server
        if on and server.aof is None:
            # Files left by an earlier run: new ones continue their numbering and
            # replace them once the rewrite is done.
            try:
                self._read_manifest()
            except AofLoadError as err:
                log.warning("Ignoring the old AOF manifest: %s", err)
            self.start_rewrite()
        elif not on and server.aof is not None:
            if self.child is not None and self.child.kind == "aof":
                self._kill_child()
            server.aof.close()
            server.aof = None
            self.aof_on = False
            self.rewrite_scheduled = False

    # --- background rewrite ---

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: 'started', 'scheduled'; raises ReplyError otherwise."""
        if self.child is not None and self.child.kind == "aof":
            raise errors.AOF_REWRITE_IN_PROGRESS
        if self.child is not None:
            self.rewrite_scheduled = True
            return "scheduled"
        if not self.start_rewrite():
            raise errors.AOF_REWRITE_FAILED
        return "started"

    def start_rewrite(self) -> bool:
        """Switch to a fresh incr file and fork the child that writes the new base.
        With appendonly yes not yet in effect (just turned on), the AOF starts here."""
        server = self.server
        if self.child is not None:
            self.rewrite_scheduled = True
            return True
        os.makedirs(self.aof_dir, exist_ok=True)
        manifest = self.manifest
        new_incr = None
        if server.config.appendonly:
            seq = manifest.incr_seq + 1
            new_incr = AofFile(f"{server.config.appendfilename}.{seq}.incr.aof", seq, "i")
            path = self.aof_path(new_incr.name)
            if server.aof is None:
                server.aof = AppendOnlyFile(server, path, 0)
            else:
                if server.aof.buf:
                    server.aof.write_buffer()
                server.aof.open(path)  # syncs the old incr file first
            manifest.incr_seq = seq
            if self.aof_on:
                # Already in effect: a crash during the rewrite replays old + new incr.
                manifest.incrs.append(new_incr)
                self._persist_manifest()
        log.info("Creating AOF incr file %s on background rewrite",
                 new_incr.name if new_incr else "(none)")
        base = self._next_base()
        temp = self.aof_path(f"{REWRITE_TEMP_PREFIX}{time.time_ns()}.{base.name[-3:]}")
        try:
            pid = snapshot.fork_child(lambda: self._write_base(temp))
        except OSError as err:
            log.error("Can't rewrite append only file in background: fork: %s", err.strerror)
            self.last_rewrite_ok = False
            return False
        self.child = Child(pid, "aof", temp, time.monotonic(), base, new_incr)
        self.rewrite_scheduled = False
        log.info("Background append only file rewriting started by pid %d", pid)
        return True

    def _rewrite_done(self, child: Child, ok: bool) -> None:
        self.last_rewrite_secs = int(time.monotonic() - child.started)
        self.last_rewrite_ok = ok
        self.rewrites += ok
        self.rewrite_failures = 0 if ok else self.rewrite_failures + 1
        if not ok:
            log.warning("Background AOF rewrite terminated with error")
            _remove(child.temp)
            if self.server.aof is not None and not self.aof_on:
                self.rewrite_scheduled = True  # appendonly yes is still waiting for a base
            return
        manifest = self.manifest
        old = {f.name for f in manifest.files()}
        base = child.base
        assert base is not None
        os.replace(child.temp, self.aof_path(base.name))
        manifest.base = base
        manifest.base_seq = base.seq
        manifest.incrs = [child.new_incr] if child.new_incr else []
        self._persist_manifest()
        for name in old - {f.name for f in manifest.files()}:
            _remove(self.aof_path(name))
        aof = self.server.aof
        if aof is not None:
            self.aof_on = True
            aof.current_size = aof.base_size = self._aof_size() + len(aof.buf)
        log.info("Background AOF rewrite finished successfully")

    # --- snapshots (SAVE / BGSAVE) ---

    def save(self) -> None:
        """SAVE: write the snapshot in the foreground (OSError when it cannot)."""
        temp = os.path.join(self.server.config.dir, f"temp-{os.getpid()}.rdb")
        started = time.monotonic()
        try:
            rdb.save(temp, self.server)
        except OSError:
            _remove(temp)
            raise
        self.dirty_at_fork = self.server.dirty
        self._snapshot_done(temp, True, started)

    def bgsave(self, schedule: bool) -> str:
        if self.child is not None and self.child.kind == "rdb":
            raise errors.BGSAVE_IN_PROGRESS
        if self.child is not None:
            if not schedule:
                raise errors.BGSAVE_CHILD_ACTIVE
            self.bgsave_scheduled = True
            return "scheduled"
        if not self._start_bgsave():
            raise errors.SAVE_FAILED
        return "started"

    def _start_bgsave(self) -> bool:
        server = self.server
        temp = os.path.join(server.config.dir, f"temp-bgsave-{time.time_ns()}.rdb")
        self.last_bgsave_try = time.time()
        try:
            pid = snapshot.fork_child(lambda: rdb.save(temp, server))
        except OSError as err:
            log.warning("Can't save in background: fork: %s", err.strerror)
            self.last_bgsave_ok = False
            return False
        self.child = Child(pid, "rdb", temp, time.monotonic())
        self.dirty_at_fork = server.dirty
        self.bgsave_scheduled = False
        log.info("Background saving started by pid %d", pid)
        return True

    def _snapshot_done(self, temp: str, ok: bool, started: float) -> None:
        self.last_bgsave_ok = ok
        self.saves += ok
        self.last_bgsave_secs = int(time.monotonic() - started)
        if not ok:
            _remove(temp)
            log.warning("Background saving error")
            return
        os.replace(temp, self.snapshot_path)
        snapshot.fsync_dir(self.server.config.dir or ".")
        self.server.last_save = int(time.time())
        self.dirty_at_save = self.dirty_at_fork
        log.info("DB saved on disk")

    # --- children and periodic work ---

    def _kill_child(self) -> None:
        child, self.child = self.child, None
        if child is None:
            return
        try:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
        _remove(child.temp)

    def reap(self) -> None:
        """Collect a finished child (called from the server's cron)."""
        child = self.child
        if child is None:
            return
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        if pid == 0:
            return
        self.child = None
        ok = os.waitstatus_to_exitcode(status) == 0
        if child.kind == "aof":
            self._rewrite_done(child, ok)
        else:
            self._snapshot_done(child.temp, ok, child.started)

    def cron(self) -> None:
        self.reap()
        if self.child is not None:
            return
        if self.rewrite_scheduled:
            self.start_rewrite()
        elif self.bgsave_scheduled or self._save_point_reached():
            self._start_bgsave()
        elif self._aof_grew():
            log.info("Starting automatic rewriting of AOF on %d%% growth",
                     self.server.config.auto_aof_rewrite_percentage)
            self.start_rewrite()

    def _save_point_reached(self) -> bool:
        now = time.time()
        if not self.last_bgsave_ok and now - self.last_bgsave_try < BGSAVE_RETRY_DELAY:
            return False  # a failing disk is not retried on every cron tick
        changes = self.server.dirty - self.dirty_at_save
        elapsed = now - self.server.last_save
        return any(changes >= n and elapsed >= secs for secs, n in self.server.config.save)

    def _aof_grew(self) -> bool:
        config = self.server.config
        aof = self.server.aof
        if aof is None or not self.aof_on or not config.auto_aof_rewrite_percentage:
            return False
        if aof.current_size < config.auto_aof_rewrite_min_size:
            return False
        base = aof.base_size or 1
        return (aof.current_size - base) * 100 // base >= config.auto_aof_rewrite_percentage

    def shutdown(self) -> None:
        """SHUTDOWN / SIGTERM (Redis's prepareForShutdown): stop any child, flush and
        fsync the AOF, then save a snapshot if save points are configured."""
        self._kill_child()
        if self.server.aof is not None:
            self.server.aof.close()
        save = self.shutdown_save
        if save if save is not None else bool(self.server.config.save):
            log.info("Saving the final snapshot before exiting.")
            try:
                self.save()
            except OSError as err:
                log.warning("Error trying to save the DB on shutdown: %s", err.strerror)

    # --- INFO persistence ---

    def info(self) -> list[tuple[str, Any]]:
        server = self.server
        aof = server.aof
        child = self.child
        now = time.monotonic()
        fields: list[tuple[str, Any]] = [
            ("loading", int(self.loading)),
            ("async_loading", 0),
            ("current_cow_peak", 0),
            ("current_cow_size", 0),
            ("current_cow_size_age", 0),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", server.dirty - self.dirty_at_save),
            ("rdb_bgsave_in_progress", int(child is not None and child.kind == "rdb")),
            ("rdb_last_save_time", server.last_save),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_secs),
            ("rdb_current_bgsave_time_sec",
             int(now - child.started) if child and child.kind == "rdb" else -1),
            ("rdb_saves", self.saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", 0),
            ("rdb_last_load_keys_loaded", 0),
            ("aof_enabled", int(server.aof is not None)),
            ("aof_rewrite_in_progress", int(child is not None and child.kind == "aof")),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_secs),
            ("aof_current_rewrite_time_sec",
             int(now - child.started) if child and child.kind == "aof" else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.rewrite_failures),
            ("aof_last_write_status", "ok" if aof is None or aof.last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if aof is not None:
            fields += [
                ("aof_current_size", aof.current_size),
                ("aof_base_size", aof.base_size),
                ("aof_pending_rewrite", int(self.rewrite_scheduled)),
                ("aof_buffer_length", len(aof.buf)),
                ("aof_pending_bio_fsync", 0),
                ("aof_delayed_fsync", 0),
            ]
        return fields


class _Replay:
    """Context for a load: the loading flag, a clock that expires nothing (Redis does
    not expire keys while loading), and counters reset afterwards."""

    def __init__(self, persistence: Persistence) -> None:
        self.persistence = persistence
        self.server = persistence.server

    def __enter__(self) -> Loader:
        self.persistence.loading = True
        self.frozen = self.server.clock.frozen
        self.server.clock.frozen = 0
        self.dirty = self.server.dirty
        return Loader(self.server)

    def __exit__(self, *exc: object) -> None:
        server = self.server
        server.clock.frozen = self.frozen
        server.dirty = self.dirty
        server.reset_stats()
        self.persistence.loading = False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _appendonly_changed(server: "Server", value: bool) -> None:
    server.persistence.set_appendonly(value)


on_config_set("appendonly", _appendonly_changed)
