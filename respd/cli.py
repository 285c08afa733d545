"""The ``respd`` command: redis-server's command-line conventions.

    respd [config-file] [--port N] [--bind ADDR ...] [--<directive> value ...]

A config file uses redis.conf syntax (one directive per line, redis-cli quoting, '#'
comments).  Command-line options are applied after the file, as redis-server does.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Sequence

from respd import REDIS_VERSION, __version__
import respd.server  # noqa: F401  the command table, which `user` lines name
from respd.acl import add_user_directive
from respd.config import PARAMS, Config, ConfigError
from respd.resp import split_args


USAGE = f"""Usage: respd [/path/to/respd.conf] [options]
       respd --version
       respd --help

A Redis {REDIS_VERSION}-compatible messaging server in Python.

Options are redis.conf directives written as --name value, applied after the
config file, for example:
       respd --port 6380 --bind 127.0.0.1 ::1
       respd /etc/respd.conf --appendonly yes --appendfsync always
       respd --requirepass secret --save ""
"""


def help_text() -> str:
    """--help: the usage, then every directive with its default (respd.conf documents
    each one)."""
    width = max(len(name) for name in PARAMS) + 2
    lines = [USAGE, "Directives (default in parentheses):"]
    for name, p in PARAMS.items():
        shown = p.default.decode("latin-1") or '""'
        lines.append(f"  --{name.ljust(width)} ({shown})")
    lines.append(f"  --{'user'.ljust(width)} (ACL rules: --user name on >password ~* +@all)")
    lines.append(f"  --{'include'.ljust(width)} (another config file)")
    return "\n".join(lines)


class StartupError(Exception):
    pass


def parse_directives(lines: Sequence[str], source: str) -> list[tuple[str, list[bytes], int]]:
    """(directive, args, line number) from redis.conf-style text."""
    found = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        args = split_args(stripped.encode("latin-1"))
        if args is None:
            raise StartupError(
                f"*** FATAL CONFIG FILE ERROR (respd {__version__}) ***\n"
                f"Reading the configuration file {source}, at line {number}\n"
                f">>> '{stripped}'\nUnbalanced quotes in configuration line"
            )
        if args:
            found.append((args[0].decode("latin-1").lower(), args[1:], number))
    return found


def apply_directives(config: Config, directives: list[tuple[str, list[bytes], int]],
                     source: str, text_of: dict[int, str]) -> None:
    for name, args, number in directives:
        where = (f"Reading the configuration file{' ' + source if source else ''}, "
                 f"at line {number}\n>>> '{text_of.get(number, name)}'\n")
        if name == "include":
            if len(args) != 1:
                raise StartupError(f"*** FATAL CONFIG FILE ERROR ***\n{where}"
                                   "wrong number of arguments")
            load_file(config, args[0].decode())
            continue
        if name == "user":  # ACL users: a directive with many arguments, no parameter
            try:
                add_user_directive(config, args)
            except ConfigError as err:
                raise StartupError(f"*** FATAL CONFIG FILE ERROR (respd {__version__}) ***\n"
                                   f"{where}{err}") from None
            continue
        canonical = Config.canonical(name)
        if canonical is None:
            raise StartupError(f"*** FATAL CONFIG FILE ERROR (respd {__version__}) ***\n"
                               f"{where}Bad directive or wrong number of arguments")
        if len(args) != 1 and not (args and PARAMS[canonical].kind.words):
            raise StartupError(f"*** FATAL CONFIG FILE ERROR (respd {__version__}) ***\n"
                               f"{where}wrong number of arguments")
        try:
            config.set(name, b" ".join(args), startup=True)
        except ConfigError as err:
            raise StartupError(f"*** FATAL CONFIG FILE ERROR (respd {__version__}) ***\n"
                               f"{where}{err}") from None


def load_file(config: Config, path: str) -> int:
    """Apply a config file; returns its number of lines."""
    try:
        with open(path, encoding="latin-1") as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise StartupError(f"Fatal error, can't open config file '{path}': {err.strerror}")
    config.config_file = os.path.abspath(path)
    apply_directives(config, parse_directives(lines, path), path,
                     {i: line.strip() for i, line in enumerate(lines, 1)})
    return len(lines)


def command_line_directives(argv: list[str]) -> list[tuple[str, list[bytes], int]]:
    """--name v1 v2 ... up to the next --option, like redis-server."""
    directives: list[tuple[str, list[bytes], int]] = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            directives.append((arg[2:].lower(), [], 0))
        elif not directives:
            raise StartupError(f"Unexpected argument '{arg}'\n\n{USAGE}")
        else:
            directives[-1][1].append(arg.encode("latin-1"))
    return directives


def build_config(argv: list[str]) -> Config:
    """The config file, then the command line.  Like redis-server, the options count
    as lines after the file's (and a blank one), each shown with its arguments quoted."""
    config = Config()
    file_lines = 0
    if argv and not argv[0].startswith("--"):
        file_lines = load_file(config, argv[0])
        argv = argv[1:]
    directives = [(name, args, file_lines + 2 + i)
                  for i, (name, args, _) in enumerate(command_line_directives(argv))]
    text_of = {number: " ".join([name, *(f'"{a.decode("latin-1")}"' for a in args)])
               for name, args, number in directives}
    apply_directives(config, directives, "", text_of)
    return config


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-v"]):
        print(f"respd v={__version__} redis_version={REDIS_VERSION}")
        return 0
    if args[:1] in (["--help"], ["-h"]):
        print(help_text())
        return 0
    try:
        config = build_config(args)
    except StartupError as err:
        print(f"\n{err}", file=sys.stderr)
        return 1
    from respd import log as respd_log

    try:
        respd_log.setup(config)
    except OSError as err:  # an unwritable logfile: Redis says so and exits
        print(f"Can't open the log file: {err.strerror}", file=sys.stderr)
        return 1
    respd_log.startup_lines(config, __version__, REDIS_VERSION)
    from respd import process
    from respd.listeners import ListenError
    from respd.server import Server

    try:
        import uvloop
    except ImportError:
        uvloop = None
    supervision = process.Supervision(config)
    daemonized = process.background(config, supervision)
    if daemonized:
        process.daemonize()
    pidfile = process.write_pidfile(config, daemonized)
    server = Server(config)
    server.supervision = supervision
    try:
        if uvloop is not None:
            uvloop.run(server.serve_forever())
        else:
            asyncio.run(server.serve_forever())
    except (OSError, ListenError) as err:
        # Redis's words, in the log (the log file when one is set), not only on stderr.
        for line in str(err).splitlines():
            respd_log.log.warning("%s", line)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        process.remove_pidfile(pidfile)
    return 0
