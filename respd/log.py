"""Logging as redis-server does it: the line format, the four levels, the log file,
syslog, and ``CONFIG SET loglevel`` at run time.

A line is ``pid:role dd Mon yyyy HH:MM:SS.mmm <level-char> message`` with role ``M`` for
the server process and ``C`` for a forked child (a background save), and the level
characters ``.`` debug, ``-`` verbose, ``*`` notice, ``#`` warning, so tools that parse
Redis logs read respd's unchanged.  Everything logs through the ``respd`` logger:
``log.info`` is Redis's notice, ``log.log(VERBOSE, ...)`` its verbose.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
import time
from typing import Any

from respd.config import Config, on_config_set

VERBOSE = 15  # between DEBUG and INFO (notice)
logging.addLevelName(VERBOSE, "VERBOSE")

LEVELS = {"debug": logging.DEBUG, "verbose": VERBOSE, "notice": logging.INFO,
          "warning": logging.WARNING}
_LEVEL_CHARS = {logging.DEBUG: ".", VERBOSE: "-", logging.INFO: "*", logging.WARNING: "#"}
# syslog priorities for Redis's levels (debug, verbose → debug; notice; warning).
_SYSLOG_PRIORITY = {logging.DEBUG: "debug", VERBOSE: "info", logging.INFO: "notice",
                    logging.WARNING: "warning"}

log = logging.getLogger("respd")
_MAIN_PID = os.getpid()  # a forked child sees another pid: its lines say C


def level_char(levelno: int) -> str:
    if levelno >= logging.WARNING:
        return "#"
    return _LEVEL_CHARS.get(levelno, "*" if levelno > VERBOSE else ".")


class RedisFormatter(logging.Formatter):
    """``pid:role dd Mon yyyy HH:MM:SS.mmm c message`` (Redis's serverLogRaw)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        pid = os.getpid()
        role = "M" if pid == _MAIN_PID else "C"
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(record.created))
        millis = int(record.created * 1000) % 1000
        return f"{pid}:{role} {stamp}.{millis:03d} {level_char(record.levelno)} {message}"


class SyslogFormatter(logging.Formatter):
    """syslog adds its own time and host: the line carries pid:role and the message."""

    def format(self, record: logging.LogRecord) -> str:
        role = "M" if os.getpid() == _MAIN_PID else "C"
        return f"{os.getpid()}:{role} {record.getMessage()}"


class _SyslogHandler(logging.handlers.SysLogHandler):
    """Maps respd's levels to syslog priorities; without a syslog daemon the socket
    cannot connect and lines are dropped instead of failing the server."""

    def mapPriority(self, levelName: str) -> str:  # noqa: N802 (stdlib's name)
        return _SYSLOG_PRIORITY.get(logging.getLevelName(levelName), "warning")

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # a missing syslog daemon must not stop the server


def setup(config: Config) -> None:
    """Send the respd logger where the config says: the log file (or stdout when
    ``logfile`` is empty, as redis-server does) and syslog when enabled."""
    log.handlers.clear()
    log.propagate = False
    log.setLevel(LEVELS[config.loglevel])
    handler: logging.Handler
    if config.logfile:
        handler = logging.FileHandler(config.logfile, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedisFormatter())
    log.addHandler(handler)
    if config.syslog_enabled:
        log.addHandler(_syslog_handler(config))


def _syslog_handler(config: Config) -> logging.Handler:
    facility = logging.handlers.SysLogHandler.facility_names[config.syslog_facility]
    address: Any = "/dev/log" if os.path.exists("/dev/log") else ("localhost", 514)
    try:
        handler: logging.Handler = _SyslogHandler(address=address, facility=facility)
    except OSError:  # no daemon listening on /dev/log: fall back to UDP, which never fails
        handler = _SyslogHandler(address=("localhost", 514), facility=facility)
    handler.setFormatter(SyslogFormatter())
    handler.ident = config.syslog_ident + "[%d]: " % os.getpid()  # type: ignore[attr-defined]
    return handler


def startup_lines(config: Config, version: str, redis_version: str) -> None:
    """Redis's first lines: the banner, the version and where the config came from."""
    log.warning("oO0OoO0OoO0Oo respd is starting oO0OoO0OoO0Oo")
    log.warning("respd version=%s, redis_version=%s, bits=64, pid=%d, just started",
                version, redis_version, os.getpid())
    if config.config_file is None:
        log.warning("Warning: no config file specified, using the default config. "
                    "In order to specify a config file use respd /path/to/respd.conf")
    else:
        log.warning("Configuration loaded from %s", config.config_file)


_crash_stream: Any = None  # where faulthandler writes: opened once, kept for the crash


def crash_log(config: Config) -> None:
    """crash-log-enabled: a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) writes a
    report to the log before the process dies (the Python stack of every thread: respd's
    counterpart of Redis's bug report); off, it dies without one."""
    global _crash_stream
    if not config.crash_log_enabled:
        faulthandler.disable()
        return
    if _crash_stream is None:
        _crash_stream = open(config.logfile, "a") if config.logfile else sys.stdout
    faulthandler.enable(file=_crash_stream, all_threads=True)


def _loglevel_changed(server: Any, level: str) -> None:
    log.setLevel(LEVELS[level])


on_config_set("loglevel", _loglevel_changed)
on_config_set("crash-log-enabled", lambda server, _: crash_log(server.config))


__all__ = ["VERBOSE", "RedisFormatter", "crash_log", "setup", "startup_lines", "level_char", "log"]
