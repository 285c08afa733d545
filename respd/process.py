"""The process around the server, as redis-server manages it: ``daemonize``, ``pidfile``
and ``supervised`` (upstart's SIGSTOP, systemd's $NOTIFY_SOCKET messages)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from typing import Any

log = logging.getLogger("respd")

# prctl(2) option: no transparent huge pages for this process (linux/prctl.h).
_PR_SET_THP_DISABLE = 41
_THP_MODE = "/sys/kernel/mm/transparent_hugepage/enabled"


def disable_thp(config: Any) -> None:
    """disable-thp: when the kernel's THP mode is 'always' (the latency and copy-on-write
    cost Redis warns about), turn THP off for this process, as Redis does at start-up."""
    if not config.disable_thp:
        return
    try:
        with open(_THP_MODE) as f:
            if "[always]" not in f.read():
                return
    except OSError:
        return
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0:
        log.warning("WARNING you have Transparent Huge Pages (THP) support enabled in your "
                    "kernel and respd could not disable it for itself.")


# What Redis writes when daemonized without a pidfile directive.
DEFAULT_PIDFILE = "/var/run/redis.pid"


class Supervision:
    """The supervisor found at start-up (supervised yes/auto): 'no', 'upstart' or
    'systemd', told when the server is ready and when it stops."""

    def __init__(self, config: Any) -> None:
        mode = config.supervised
        if mode == "auto":
            if os.environ.get("UPSTART_JOB"):
                log.debug("Upstart supervision detected.")
                mode = "upstart"
            elif os.environ.get("NOTIFY_SOCKET"):
                log.debug("Systemd supervision detected.")
                mode = "systemd"
            else:
                mode = "no"
        self.mode = mode  # INFO's process_supervised
        self.active = False
        if mode == "upstart":
            if os.environ.get("UPSTART_JOB"):
                log.info("supervised by upstart, will stop to signal readiness.")
                self.active = True
            else:
                log.warning("upstart supervision requested, but UPSTART_JOB not found!")
        elif mode == "systemd":
            log.info("Supervised by systemd. Please make sure you set appropriate values for "
                     "TimeoutStartSec and TimeoutStopSec in your service unit.")
            self.active = self._notify(b"STATUS=Redis is loading...\n")
            if not self.active:
                log.warning("systemd supervision error: NOTIFY_SOCKET not found!")

    def ready(self) -> None:
        if self.mode == "systemd":
            self._notify(b"STATUS=Ready to accept connections\n")
            self._notify(b"READY=1\n")
        elif self.mode == "upstart" and self.active:
            os.environ.pop("UPSTART_JOB", None)
            os.kill(os.getpid(), signal.SIGSTOP)  # upstart's "expect stop"

    def stopping(self) -> None:
        if self.mode == "systemd":
            self._notify(b"STOPPING=1\n")

    @staticmethod
    def _notify(message: bytes) -> bool:
        """sd_notify: one datagram to $NOTIFY_SOCKET ('@' is the abstract namespace)."""
        path = os.environ.get("NOTIFY_SOCKET", "")
        if not path:
            return False
        address = "\0" + path[1:] if path.startswith("@") else path
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message, address)
        except OSError as err:
            log.warning("systemd supervision error: sd_notify: %s", err)
            return False
        return True


def background(config: Any, supervision: Supervision) -> bool:
    """Redis goes to the background when asked to, unless a supervisor watches it."""
    return bool(config.daemonize) and not supervision.active


def daemonize() -> None:
    """Fork; the parent exits at once, the child leaves the session and drops stdio."""
    if os.fork():
        os._exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    sys.stderr = sys.stdout


def write_pidfile(config: Any, daemonized: bool) -> str:
    """The pid file's path ('' for none); a daemon without one uses Redis's default."""
    if daemonized and not config.pidfile:
        config.pidfile = DEFAULT_PIDFILE
    if config.pidfile:
        try:
            with open(config.pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError as err:
            log.warning("Failed to write PID file: %s", err.strerror)
    return config.pidfile


def remove_pidfile(path: str) -> None:
    if path:
        log.info("Removing the pid file.")
        try:
            os.unlink(path)
        except OSError:
            pass


__all__ = ["Supervision", "background", "daemonize", "remove_pidfile", "write_pidfile"]
