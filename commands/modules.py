"""MODULE: respd loads no modules, so LIST is empty and LOAD/LOADEX/UNLOAD fail the way
Redis does for a library that cannot be loaded or a name that is not loaded.  LOAD, LOADEX
and UNLOAD are protected commands (enable-module-command; see respd.protected)."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command, container, help_reply

GROUP = "server"
LOADING = "admin noscript no_async_loading"

container("MODULE", group=GROUP, since="4.0.0", summary="A container for module commands")


@command("MODULE LIST", arity=2, flags="admin noscript", group=GROUP, since="4.0.0",
         summary="List all modules loaded by the server",
         complexity="O(N) where N is the number of loaded modules.",
         tips="nondeterministic_output_order")
def module_list(client: Client, argv: list[bytes]) -> Any:
    return []


@command("MODULE LOAD", arity=-3, flags=LOADING, group=GROUP, since="4.0.0",
         summary="Load a module", syntax="path [arg [arg ...]]")
def module_load(client: Client, argv: list[bytes]) -> Any:
    raise errors.MODULE_LOAD_FAILED


@command("MODULE LOADEX", arity=-3, flags=LOADING, group=GROUP, since="7.0.0",
         summary="Load a module with extended parameters",
         syntax="path [CONFIG name value [CONFIG name value ...]] [ARGS arg [arg ...]]")
def module_loadex(client: Client, argv: list[bytes]) -> Any:
    raise errors.MODULE_LOAD_FAILED


@command("MODULE UNLOAD", arity=3, flags=LOADING, group=GROUP, since="4.0.0",
         summary="Unload a module", syntax="name")
def module_unload(client: Client, argv: list[bytes]) -> Any:
    raise errors.MODULE_NOT_LOADED


MODULE_HELP = (
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and "
    "optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
)


@command("MODULE HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def module_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("MODULE", MODULE_HELP)
