"""The one executor (dispatch.call): error replies raised by handlers are shared
instances, so call() must not leave them holding the frames (argv, the client) of the
raise, nor the exception it was raised while handling."""

from __future__ import annotations

from typing import Any

from respd import dispatch, errors
from respd.command import COMMANDS
from respd.server import Server


def _client() -> Any:
    client = Server().new_client()
    client.authenticated = True
    return client


def test_shared_error_keeps_no_traceback_after_becoming_a_reply() -> None:
    client = _client()
    assert dispatch.execute(client, [b"RPUSH", b"l", b"x"]) == 1
    for _ in range(3):  # each raise would chain onto a traceback left behind
        reply = dispatch.execute(client, [b"GET", b"l"])
        assert reply is errors.WRONGTYPE
        assert reply.__traceback__ is None


def test_shared_error_raised_while_handling_another_keeps_no_context(monkeypatch: Any) -> None:
    def handler(client: Any, argv: list[bytes]) -> Any:
        try:
            int(argv[1])
        except ValueError as exc:
            raise errors.NOT_INTEGER from exc

    monkeypatch.setattr(COMMANDS[b"strlen"], "handler", handler)
    reply = dispatch.execute(_client(), [b"STRLEN", b"x"])
    assert reply is errors.NOT_INTEGER
    assert reply.__traceback__ is None
    assert reply.__context__ is None and reply.__cause__ is None
