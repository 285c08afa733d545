"""The differential harness: the same script against redis-server and respd, raw bytes
compared.

A case file (compat/cases/*.txt) is a script, one step per line:

    # comment                     ignored
    SET k v                       send on connection A, read one reply
    B: GET k                      send on connection B (any capital letter names one)
    B: &BLPOP q 0                 send, do not read (the reply comes later)
    B: <                          read one reply on B (a push, an unblocked reply)
    A: ~sort SMEMBERS s           compare the reply's top-level elements as a multiset
    A: ~any HELLO 3               send and read, but do not compare (ids, timestamps)
    A: ~type TIME                 compare only the reply's RESP type and element count
    sleep 50                      wait 50 ms
    --- new name                  start a new section: FLUSHALL, fresh connections

Arguments use redis-cli quoting ("a b", 'c', \\x00).  Each connection reads each reply
as one whole RESP2/RESP3 frame; a reply that does not come within the step's timeout
is recorded as ``(no reply)`` on both sides, so blocking behaviour is compared too.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field

from respd.resp import encode_request, split_args

READ_TIMEOUT = 2.0
NO_REPLY = b"(no reply)"
_AGG = b"*%~>|"


def _frame_end(buf: bytes, pos: int) -> int | None:
    """End offset of the RESP frame starting at pos, or None if incomplete."""
    if pos >= len(buf):
        return None
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind = buf[pos : pos + 1]
    head = buf[pos + 1 : nl]
    after = nl + 2
    if kind in b"$=!":
        size = int(head)
        if size < 0:
            return after
        end = after + size + 2
        return end if end <= len(buf) else None
    if kind in _AGG:
        count = int(head)
        if count < 0:
            return after
        if kind in b"%|":
            count *= 2
        for _ in range(count):
            end = _frame_end(buf, after)
            if end is None:
                return None
            after = end
        return after
    return after  # + - : , _ # ( simple types


def split_frame_items(frame: bytes) -> tuple[bytes, list[bytes]]:
    """An aggregate frame's header and its top-level element frames."""
    nl = frame.find(b"\r\n")
    header = frame[: nl + 2]
    items = []
    pos = nl + 2
    while pos < len(frame):
        end = _frame_end(frame, pos)
        assert end is not None
        items.append(frame[pos:end])
        pos = end
    return header, items


class RawConnection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.buf = b""

    def send(self, argv: list[bytes]) -> None:
        self.sock.sendall(encode_request(argv))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float = READ_TIMEOUT) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            end = _frame_end(self.buf, 0) if self.buf else None
            if end is not None:
                frame, self.buf = self.buf[:end], self.buf[end:]
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return NO_REPLY
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return NO_REPLY
            except OSError:
                return b"(connection error)"
            if not chunk:
                return b"(closed)" if not self.buf else b"(closed) " + self.buf
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()


@dataclass
class Step:
    line_no: int
    conn: str
    argv: list[bytes]
    mode: str = ""  # "", "sort", "any", "type"
    send: bool = True
    read: bool = True
    sleep_ms: int = 0


@dataclass
class Section:
    name: str
    steps: list[Step] = field(default_factory=list)


_PREFIX = re.compile(r"^([A-Z]):\s*(.*)$")


def parse_case(text: str, source: str = "<case>") -> list[Section]:
    sections = [Section("main")]
    for line_no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("---"):
            sections.append(Section(line[3:].strip() or f"line {line_no}"))
            continue
        if line.startswith("sleep "):
            sections[-1].steps.append(Step(line_no, "A", [], send=False, read=False,
                                           sleep_ms=int(line.split()[1])))
            continue
        conn = "A"
        m = _PREFIX.match(line)
        if m:
            conn, line = m.group(1), m.group(2)
        step = Step(line_no, conn, [])
        if line == "<":
            step.send = False
        else:
            if line.startswith("&"):
                step.read = False
                line = line[1:]
            mode = re.match(r"^~(sort|any|type)\s+", line)
            if mode:
                step.mode = mode.group(1)
                line = line[mode.end():]
            argv = split_args(line.encode())
            if argv is None or not argv:
                raise ValueError(f"{source}:{line_no}: cannot parse {raw!r}")
            step.argv = argv
        sections[-1].steps.append(step)
    return [s for s in sections if s.steps]


def normalise(frame: bytes, mode: str) -> bytes:
    if mode == "any":
        return b"(any)"
    if frame[:1] not in _AGG or frame in (NO_REPLY,):
        return frame if mode != "type" else frame[:1]
    header, items = split_frame_items(frame)
    if mode == "sort":
        return header + b"".join(sorted(items))
    if mode == "type":
        return header
    return frame


def run_section(port: int, section: Section) -> list[tuple[Step, bytes]]:
    """The transcript of one section against one server."""
    setup = RawConnection(port)
    setup.send([b"FLUSHALL"])
    setup.read()
    setup.close()
    conns: dict[str, RawConnection] = {}
    transcript: list[tuple[Step, bytes]] = []
    try:
        for step in section.steps:
            if step.sleep_ms:
                time.sleep(step.sleep_ms / 1000)
                continue
            conn = conns.get(step.conn)
            if conn is None:
                conn = conns[step.conn] = RawConnection(port)
            if step.send:
                conn.send(step.argv)
            if step.read:
                timeout = READ_TIMEOUT if step.send else 1.0
                transcript.append((step, normalise(conn.read(timeout), step.mode)))
    finally:
        for conn in conns.values():
            conn.close()
    return transcript


def describe(step: Step) -> str:
    text = " ".join(a.decode("latin-1") for a in step.argv) if step.argv else "<"
    return f"line {step.line_no} {step.conn}: {text}"


def compare(ref_port: int, respd_port: int, sections: list[Section]) -> tuple[int, list[str]]:
    """(number of replies compared, human-readable differences)."""
    diffs = []
    compared = 0
    for section in sections:
        expected = run_section(ref_port, section)
        actual = run_section(respd_port, section)
        for (step, want), (_, got) in zip(expected, actual):
            compared += 1
            if want != got:
                diffs.append(f"[{section.name}] {describe(step)}\n   redis: {want!r}\n   respd: {got!r}")
    return compared, diffs
