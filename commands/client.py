"""CLIENT subcommands."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command, container
from respd.resp import OK

GROUP = "connection"

container("CLIENT", group=GROUP, since="2.4.0",
          summary="A container for client connection commands")


def set_client_name(client: Client, name: bytes) -> None:
    """Names may not contain spaces or characters outside '!'..'~' (Redis's rule)."""
    if any(b < 0x21 or b > 0x7E for b in name):
        raise errors.CLIENT_NAME_SPACES
    client.name = name


@command("CLIENT SETNAME", arity=3, flags="noscript loading stale", group=GROUP,
         since="2.6.9", summary="Set the current connection name",
         syntax="connection-name")
def client_setname(client: Client, argv: list[bytes]) -> Any:
    set_client_name(client, argv[2])
    return OK


@command("CLIENT GETNAME", arity=2, flags="noscript loading stale", group=GROUP,
         since="2.6.9", summary="Get the current connection name")
def client_getname(client: Client, argv: list[bytes]) -> Any:
    return client.name or None


@command("CLIENT ID", arity=2, flags="noscript loading stale", group=GROUP,
         since="5.0.0", summary="Returns the client ID for the current connection")
def client_id(client: Client, argv: list[bytes]) -> Any:
    return client.id
