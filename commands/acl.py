"""ACL commands: ACL CAT DELUSER DRYRUN GENPASS GETUSER HELP LIST LOAD LOG SAVE SETUSER
USERS WHOAMI.  The users, rules and checks live in respd.acl."""

from __future__ import annotations

import os
from typing import Any

from respd import acl as aclmod
from respd import errors
from respd.client import Client
from respd.command import ACL_ORDER, command, container, help_reply
from respd.dispatch import resolve
from respd.errors import ReplyError
from respd.numbers import parse_int
from respd.resp import OK, AttrSet, Map

GROUP = "server"
_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"

container("ACL", group=GROUP, since="6.0.0",
          summary="A container for Access List Control commands ")


def _syntax_error(argv: list[bytes]) -> ReplyError:
    return errors.unknown_subcommand_or_arity(argv[1], "ACL")


@command("ACL SETUSER", arity=-3, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="Modify or create the rules for a specific ACL user",
         complexity="O(N). Where N is the number of rules provided.",
         syntax="username [rule [rule ...]]",
         history=(("6.2.0", "Added Pub/Sub channel patterns."),
                  ("7.0.0", "Added selectors and key based permissions.")))
def acl_setuser(client: Client, argv: list[bytes]) -> Any:
    name = argv[2]
    if aclmod.has_spaces(name):
        raise errors.ACL_USERNAME_SPACES
    client.server.acl.setuser(name, argv[3:], client)
    return OK


@command("ACL DELUSER", arity=-3, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="Remove the specified ACL users and the associated rules",
         complexity="O(1) amortized time considering the typical user.",
         syntax="username [username ...]")
def acl_deluser(client: Client, argv: list[bytes]) -> Any:
    return client.server.acl.deluser(argv[2:], client)


@command("ACL GETUSER", arity=3, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="Get the rules for a specific ACL user",
         complexity="O(N). Where N is the number of password, command and pattern rules "
                    "that the user has.",
         syntax="username",
         history=(("6.2.0", "Added Pub/Sub channel patterns."),
                  ("7.0.0", "Added selectors and changed the format of key and channel "
                            "patterns from a list to their rule representation.")))
def acl_getuser(client: Client, argv: list[bytes]) -> Any:
    user = client.server.acl.get(argv[2])
    if user is None:
        return None
    reply: dict[bytes, Any] = {b"flags": AttrSet(user.flag_names()),
                               b"passwords": list(user.passwords)}
    fields = user.root.getuser_fields()
    for i in range(0, len(fields), 2):
        reply[fields[i]] = fields[i + 1]
    reply[b"selectors"] = [_pairs(s.getuser_fields()) for s in user.selectors[1:]]
    return Map(reply)


def _pairs(flat: list[Any]) -> Map:
    return Map({flat[i]: flat[i + 1] for i in range(0, len(flat), 2)})


@command("ACL LIST", arity=2, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="List the current ACL rules in ACL config file format",
         complexity="O(N). Where N is the number of configured users.")
def acl_list(client: Client, argv: list[bytes]) -> Any:
    return [b"user " + u.name + b" " + u.describe() for u in client.server.acl.sorted_users()]


@command("ACL USERS", arity=2, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="List the username of all the configured ACL rules",
         complexity="O(N). Where N is the number of configured users.")
def acl_users(client: Client, argv: list[bytes]) -> Any:
    return [u.name for u in client.server.acl.sorted_users()]


@command("ACL WHOAMI", arity=2, flags=_PLAIN, group=GROUP, since="6.0.0", acl="",
         summary="Return the name of the user associated to the current connection")
def acl_whoami(client: Client, argv: list[bytes]) -> Any:
    return client.user.name


def _acl_file(client: Client) -> str:
    path = client.server.config.aclfile
    if not path:
        raise errors.ACL_NO_FILE
    return path


@command("ACL LOAD", arity=2, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="Reload the ACLs from the configured ACL file",
         complexity="O(N). Where N is the number of configured users.")
def acl_load(client: Client, argv: list[bytes]) -> Any:
    client.server.acl.load_file(_acl_file(client), client)
    return OK


@command("ACL SAVE", arity=2, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="Save the current ACL rules in the configured ACL file",
         complexity="O(N). Where N is the number of configured users.")
def acl_save(client: Client, argv: list[bytes]) -> Any:
    client.server.acl.save_file(_acl_file(client))
    return OK


@command("ACL CAT", arity=-2, flags=_PLAIN, group=GROUP, since="6.0.0", acl="",
         summary="List the ACL categories or the commands inside a category",
         complexity="O(1) since the categories and commands are a fixed set.",
         syntax="[categoryname]")
def acl_cat(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return [c.encode() for c in ACL_ORDER]
    if len(argv) != 3:
        raise _syntax_error(argv)
    category = argv[2].lower().decode("latin-1")
    if category not in ACL_ORDER:
        raise errors.acl_unknown_category(argv[2])
    table = aclmod.table()
    return [cmd.name.encode() for cmd in table.tree()
            if category in table.category_of[cmd.stat_index]]


_GENPASS_MAX_BITS = 4096


@command("ACL GENPASS", arity=-2, flags=_PLAIN, group=GROUP, since="6.0.0", acl="",
         summary="Generate a pseudorandom secure password to use for ACL users",
         syntax="[bits:integer]")
def acl_genpass(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise _syntax_error(argv)
    bits = 256
    if len(argv) == 3:
        value = parse_int(argv[2])
        if value is None:
            raise errors.NOT_INTEGER
        bits = value
    if not 0 < bits <= _GENPASS_MAX_BITS:
        raise errors.ACL_GENPASS_BITS
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("ACL LOG", arity=-2, flags=_ADMIN, group=GROUP, since="6.0.0", acl="",
         summary="List latest events denied because of ACLs in place",
         complexity="O(N) with N being the number of entries shown.",
         syntax="[count:integer | RESET]")
def acl_log(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise _syntax_error(argv)
    log = client.server.acl.log
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            log.clear()
            return OK
        value = parse_int(argv[2])
        if value is None:
            raise errors.NOT_INTEGER
        count = max(value, 0)
    now = client.server.now_ms()
    return [entry.reply(now) for entry in log[:count]]


@command("ACL DRYRUN", arity=-4, flags=_ADMIN, group=GROUP, since="7.0.0", acl="",
         summary="Returns whether the user can execute the given command without executing "
                 "the command.",
         complexity="O(1).",
         syntax="username command [arg [arg ...]]")
def acl_dryrun(client: Client, argv: list[bytes]) -> Any:
    user = client.server.acl.get(argv[2])
    if user is None:
        raise errors.acl_dryrun_no_user(argv[2])
    args = argv[3:]
    try:
        cmd = resolve(args)
    except ReplyError as err:
        if err.line.startswith(b"ERR wrong number"):
            raise
        raise errors.acl_dryrun_no_command(args[0]) from None
    result, pos = user.check(cmd, args)
    if result == aclmod.OK:
        return OK
    if result == aclmod.DENIED_CMD:
        return f"This user has no permissions to run the '{cmd.name}' command".encode()
    kind = b"key" if result == aclmod.DENIED_KEY else b"channel"
    return b"This user has no permissions to access the '" + args[pos] + b"' " + kind


ACL_HELP = (
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the "
    "command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
)


@command("ACL HELP", arity=2, flags="loading stale", group=GROUP, since="6.0.0",
         acl="", summary="Show helpful text about the different subcommands")
def acl_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("ACL", ACL_HELP)
