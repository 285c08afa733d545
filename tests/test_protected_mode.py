"""Safe defaults, byte for byte against redis-server 7.0.15 started the same way:
protected mode (non-local peers get -DENIED and are closed when the default user has no
password) and the protected actions: DEBUG and MODULE LOAD/UNLOAD gated by
enable-debug-command / enable-module-command, dir/dbfilename by enable-protected-configs,
each 'no', 'yes' or 'local'.

Non-local peers without a network: Redis calls only 127.0.0.1 and ::1 local, so a
connection from 127.0.0.2 is not local; so is one from the machine's own non-loopback
address (``hostname -I``) to that address, when the machine has one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from typing import Any, Callable

import pytest

from compat.harness import RawConnection
from conftest import ServerProcess
from respd.listeners import DENIED


def non_local_sources() -> list[tuple[str, str]]:
    """(source address, address to connect to) pairs whose peer Redis does not call
    local; only addresses of this machine."""
    pairs = [("127.0.0.2", "127.0.0.1")]
    if shutil.which("hostname"):
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
        pairs += [(a, a) for a in out.split() if ":" not in a and not a.startswith("127.")]
    return pairs


SOURCES = non_local_sources()


class Peer(RawConnection):
    """A raw RESP connection from a chosen local source address."""

    def __init__(self, port: int, source: str = "127.0.0.1", target: str = "127.0.0.1"):
        self.sock = socket.create_connection((target, port), timeout=5,
                                             source_address=(source, 0))
        self.buf = b""

    def run(self, *commands: str) -> list[bytes]:
        """Send every command, then read one frame per command."""
        for line in commands:
            self.send([word.encode() for word in line.split()])
        return [self.read() for _ in commands]


def exchange(port: int, *commands: str, source: str = "127.0.0.1",
             target: str = "127.0.0.1") -> list[bytes]:
    peer = Peer(port, source, target)
    try:
        return peer.run(*commands)
    finally:
        peer.close()


def first_bytes(port: int, source: str, target: str) -> bytes:
    """Everything a peer receives without asking, up to the server's close (sending
    something first could turn the close into a reset that loses the text)."""
    peer = Peer(port, source, target)
    try:
        data = b""
        while True:
            chunk = peer.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        peer.close()


@pytest.fixture
def pair(spawn: Callable[..., ServerProcess]) -> Callable[..., tuple[ServerProcess, ...]]:
    """pair(*options) → (redis-server, respd), both started with the same options and
    DEBUG left at its default unless the options say otherwise."""

    def start(*options: str) -> tuple[ServerProcess, ServerProcess]:
        reference = spawn("redis", *options)
        ours = spawn("respd", "--enable-debug-command", "no", *options)
        return reference, ours

    return start


# --- protected mode ------------------------------------------------------------------------

@pytest.mark.parametrize("source,target", SOURCES)
def test_non_local_peer_is_denied_like_redis(pair: Any, source: str, target: str) -> None:
    reference, ours = pair("--bind", "0.0.0.0")
    expected = first_bytes(reference.port, source, target)
    assert expected == DENIED
    assert first_bytes(ours.port, source, target) == expected
    # Refused connections count as rejected, not as received.
    for server in (reference, ours):
        stats = server.client().info("stats")
        assert stats["rejected_connections"] == 1


def test_local_peer_is_served(pair: Any) -> None:
    reference, ours = pair("--bind", "0.0.0.0")
    for server in (reference, ours):
        assert exchange(server.port, "PING") == [b"+PONG\r\n"]
        assert server.client().config_get("protected-mode") == {"protected-mode": "yes"}


@pytest.mark.parametrize("options", [("--protected-mode", "no"), ("--requirepass", "pw")])
def test_no_protection_needed(pair: Any, options: tuple[str, str]) -> None:
    """protected-mode off, or a password for the default user: non-local peers get in."""
    source, target = SOURCES[-1]
    servers = pair("--bind", "0.0.0.0", *options)
    replies = [exchange(s.port, "PING", source=source, target=target) for s in servers]
    assert replies[0] == replies[1]
    assert replies[1][0] in (b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n")


def test_protected_mode_follows_config_set(pair: Any) -> None:
    source, target = SOURCES[0]
    for server in pair("--bind", "0.0.0.0"):
        assert first_bytes(server.port, source, target) == DENIED
        server.client().config_set("protected-mode", "no")
        assert exchange(server.port, "PING", source=source, target=target) == [b"+PONG\r\n"]
        server.client().config_set("protected-mode", "yes")
        server.client().config_set("requirepass", "pw")
        assert exchange(server.port, "PING", source=source, target=target) == [
            b"-NOAUTH Authentication required.\r\n"]


# --- protected actions ---------------------------------------------------------------------

def test_defaults_match_redis(pair: Any) -> None:
    reference, ours = pair()
    names = ("enable-debug-command", "enable-module-command", "enable-protected-configs",
             "protected-mode")
    for name in names:
        assert ours.client().config_get(name) == reference.client().config_get(name)
    assert ours.client().config_get("enable-debug-command") == {"enable-debug-command": "no"}


SCRIPT = (
    "DEBUG SLEEP 0", "DEBUG", "DEBUG nosuch", "MULTI", "DEBUG SLEEP 0", "EXEC",
    "MODULE LIST", "MODULE LOAD /nonexistent.so", "MODULE UNLOAD nosuch",
    "MODULE LOADEX /nonexistent.so", "CONFIG SET dir /tmp", "CONFIG SET dbfilename x.rdb",
    "CONFIG SET enable-debug-command yes", "CONFIG SET enable-protected-configs yes",
    "CONFIG SET maxmemory-samples 5 dir /tmp",
)


@pytest.mark.parametrize("setting", ["no", "yes", "local"])
def test_protected_actions_from_loopback(pair: Any, setting: str) -> None:
    options = ("--enable-debug-command", setting, "--enable-module-command", setting,
               "--enable-protected-configs", setting)
    reference, ours = pair(*options)
    expected = exchange(reference.port, *SCRIPT)
    assert exchange(ours.port, *SCRIPT) == expected
    if setting == "no":
        assert expected[0].startswith(b"-ERR DEBUG command not allowed. If the "
                                      b"enable-debug-command option is set to \"local\"")


@pytest.mark.parametrize("setting", ["yes", "local"])
def test_protected_actions_from_a_non_local_peer(pair: Any, setting: str) -> None:
    """'local' refuses a peer that is not 127.0.0.1/::1, 'yes' allows it."""
    source, target = SOURCES[0]
    options = ("--bind", "0.0.0.0", "--protected-mode", "no", "--enable-debug-command",
               setting, "--enable-module-command", setting, "--enable-protected-configs",
               setting)
    reference, ours = pair(*options)
    expected = exchange(reference.port, *SCRIPT, source=source, target=target)
    assert exchange(ours.port, *SCRIPT, source=source, target=target) == expected
    assert (b"not allowed" in expected[0]) == (setting == "local")


def test_debug_refused_before_authentication(pair: Any) -> None:
    """Redis checks the protected command before NOAUTH, and counts a rejected call."""
    reference, ours = pair("--requirepass", "pw")
    script = ("DEBUG SLEEP 0", "MODULE LOAD /x.so", "AUTH pw", "MULTI", "DEBUG SLEEP 0",
              "EXEC")
    expected = exchange(reference.port, *script)
    assert exchange(ours.port, *script) == expected
    assert expected[-1].startswith(b"-EXECABORT")
    stats = [s.client(password="pw").info("commandstats")["cmdstat_debug"]
             for s in (reference, ours)]
    assert stats[0]["rejected_calls"] == stats[1]["rejected_calls"] == 2
    assert stats[0]["calls"] == stats[1]["calls"] == 0


def test_protected_directives_are_immutable(pair: Any) -> None:
    reference, ours = pair()
    for name in ("enable-debug-command", "enable-module-command",
                 "enable-protected-configs"):
        for server in (reference, ours):
            with pytest.raises(Exception, match="can't set immutable config"):
                server.client().config_set(name, "yes")
