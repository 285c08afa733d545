"""The append-only file format (Redis 7.0's multi-part layout) and its writer.

Layout (``dir``/``appenddirname``/): a manifest ``<appendfilename>.manifest`` naming one
*base* file (the dataset as of the last rewrite) and the *incr* files written since, in
order — byte-compatible with redis-server 7.0, which loads respd's directory and the
other way round.  A base is an RDB file (``.base.rdb``, aof-use-rdb-preamble yes, Redis's
default) or commands (``.base.aof``); incr files are always commands.

Writing: commands executed by clients reach ``AppendOnlyFile.feed`` as one batch per
top-level command (a batch of several writes is wrapped in MULTI/EXEC).  ``Server.flush``
calls ``AppendOnlyFile.flush`` before any reply leaves: the buffer is written with one
``os.write``; under ``appendfsync always`` the replies are held back and a single
fdatasync on the next loop pass covers every write of the pass (group commit), then the
replies go out.  ``everysec`` syncs from a background thread about once a second; ``no``
leaves it to the OS.

Reading: ``read_command`` parses one command of a file.  Loading it (replaying through
dispatch), rewrites, snapshots and their scheduling are server machinery:
respd.persistence.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from respd.resp import encode_request

if TYPE_CHECKING:
    from respd.server import Server

log = logging.getLogger("respd")

_SELECT = b"SELECT"
_MULTI = encode_request([b"MULTI"])
_EXEC = encode_request([b"EXEC"])
_fsync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


class AofLoadError(Exception):
    """The AOF cannot be loaded; the message says where and why."""


# --- the file format ---------------------------------------------------------------------


class Truncated(Exception):
    """The file ends in the middle of a command."""


class BadFormat(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _header(buf: Any, pos: int, size: int, marker: int) -> tuple[int, int]:
    """The number after ``*`` or ``$`` at pos, and the offset after its CRLF."""
    if pos >= size:
        raise Truncated
    if buf[pos] != marker:
        raise BadFormat(pos, f"expected '{chr(marker)}', found {bytes(buf[pos:pos + 1])!r}")
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        raise Truncated
    try:
        value = int(buf[pos + 1 : nl])
    except ValueError:
        raise BadFormat(pos, "invalid length") from None
    return value, nl + 2


def read_command(buf: Any, pos: int, size: int) -> tuple[list[bytes], int]:
    """One multibulk command starting at pos: (argv, offset after it)."""
    count, pos = _header(buf, pos, size, 0x2A)
    if count < 1:
        raise BadFormat(pos, "invalid argument count")
    argv = []
    for _ in range(count):
        start = pos
        length, pos = _header(buf, pos, size, 0x24)
        end = pos + length
        if length < 0:
            raise BadFormat(start, "invalid bulk length")
        if end + 2 > size:
            raise Truncated
        if buf[end : end + 2] != b"\r\n":
            raise BadFormat(end, "bulk string not terminated by CRLF")
        argv.append(buf[pos:end])
        pos = end + 2
    return argv, pos


# --- the manifest --------------------------------------------------------------------------


@dataclass
class AofFile:
    name: str
    seq: int
    kind: str  # b(ase), i(ncr), h(istory)


@dataclass
class Manifest:
    base: AofFile | None = None
    incrs: list[AofFile] = field(default_factory=list)
    base_seq: int = 0
    incr_seq: int = 0

    @classmethod
    def parse(cls, text: str, path: str) -> "Manifest":
        manifest = cls()
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split()
            if not words or line.startswith("#"):
                continue
            fields = dict(zip(words[::2], words[1::2]))
            try:
                entry = AofFile(fields["file"], int(fields["seq"]), fields["type"])
            except (KeyError, ValueError):
                raise AofLoadError(f"Invalid AOF manifest file format: {path} line {number}")
            if entry.kind == "b":
                manifest.base = entry
                manifest.base_seq = max(manifest.base_seq, entry.seq)
            elif entry.kind == "i":
                manifest.incrs.append(entry)
                manifest.incr_seq = max(manifest.incr_seq, entry.seq)
        return manifest

    def render(self) -> bytes:
        files = ([self.base] if self.base else []) + self.incrs
        return "".join(f"file {f.name} seq {f.seq} type {f.kind}\n" for f in files).encode()

    def files(self) -> list[AofFile]:
        return ([self.base] if self.base else []) + self.incrs


# --- writing ------------------------------------------------------------------------------


class AppendOnlyFile:
    """The open incr file, its write buffer and the fsync policy."""

    def __init__(self, server: "Server", path: str, size: int) -> None:
        self.server = server
        self.buf = bytearray()
        self.selected_db = -1
        self.fd = -1
        self.needs_sync = False
        self.commit_scheduled = False
        self.lock = threading.Lock()  # held to fsync or swap ``fd``
        self.current_size = size
        self.base_size = size
        self.last_write_ok = True
        # How long written data waited for its fsync at worst: the window a machine
        # crash could lose under everysec (logged at close).
        self.unsynced_since = 0.0
        self.max_unsynced_wait = 0.0
        self.open(path)
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_every_second, daemon=True,
                                        name="aof-fsync")
        self._syncer.start()

    def open(self, path: str) -> None:
        """Append to ``path`` from now on (the old file is synced and closed first)."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with self.lock:
            old, self.fd = self.fd, fd
            if old >= 0:
                _fsync(old)
                os.close(old)
        self.needs_sync = False
        self.selected_db = -1  # a new file starts with SELECT

    def feed(self, batch: list[tuple[int, list[bytes]]]) -> None:
        """Append one top-level command's writes; several form one MULTI/EXEC unit."""
        buf = self.buf
        wrap = len(batch) > 1 and batch[0][1][0].upper() != b"MULTI"
        for i, (db_index, argv) in enumerate(batch):
            if db_index != self.selected_db:
                buf += encode_request([_SELECT, b"%d" % db_index])
                self.selected_db = db_index
            if wrap and i == 0:
                buf += _MULTI
            buf += encode_request(argv)
        if wrap:
            buf += _EXEC

    def flush(self) -> bool:
        """Write the buffer; True while replies must wait for the group fsync."""
        if self.buf:
            self.write_buffer()
        if self.needs_sync and self.server.config.appendfsync == "always":
            loop = self.server.loop
            if loop is None:
                self.sync()
                return False
            if not self.commit_scheduled:
                self.commit_scheduled = True
                loop.call_soon(self._commit)
            return True
        return False

    def write_buffer(self) -> None:
        data, self.buf = self.buf, bytearray()
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        except OSError as err:
            self.last_write_ok = False
            log.error("Error writing to the AOF file: %s", err.strerror)
            if self.server.config.appendfsync == "always":
                # The promise cannot be kept: stop before acknowledging anything.
                log.error("Can't recover from AOF write error when the AOF fsync policy "
                          "is 'always'. Exiting...")
                os._exit(1)
            self.buf = bytearray(view) + self.buf  # retried on the next flush
            return
        self.last_write_ok = True
        self.current_size += len(data)
        if not self.needs_sync:
            self.unsynced_since = time.monotonic()
        self.needs_sync = True

    def _commit(self) -> None:
        """The group commit: one fdatasync for the pass, then the held-back replies."""
        self.commit_scheduled = False
        if self.buf:
            self.write_buffer()
        if self.needs_sync:
            self.sync()
        self.server.flush()

    def sync(self) -> None:
        with self.lock:
            since = self.unsynced_since
            self.needs_sync = False
            if self.fd >= 0:
                _fsync(self.fd)
        waited = time.monotonic() - since
        self.max_unsynced_wait = max(self.max_unsynced_wait, waited)

    def _sync_every_second(self) -> None:
        while not self._stop.wait(1.0):
            if self.needs_sync and self.server.config.appendfsync == "everysec":
                try:
                    self.sync()
                except OSError as err:
                    log.error("AOF fsync failed: %s", err.strerror)

    def close(self) -> None:
        """Flush and fsync everything (SHUTDOWN, SIGTERM, appendonly no)."""
        self._stop.set()
        if self.buf:
            self.write_buffer()
        with self.lock:
            if self.fd >= 0:
                _fsync(self.fd)
                os.close(self.fd)
                self.fd = -1
        self.needs_sync = False
        log.info("AOF closed: written data waited at most %.0f ms for fsync",
                 self.max_unsynced_wait * 1000)
