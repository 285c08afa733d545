"""Work command families add to the server's periodic cycle (``Server._cron``, Redis's
serverCron), as active expiry is: a family registers ``step(server)`` when it is
imported, and each cycle runs the steps before handing what they wrote to the AOF and
the replicas.  A step must bound its own work per cycle."""

from __future__ import annotations

from typing import Any, Callable

STEPS: list[Callable[[Any], None]] = []


def every_cycle(step: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register ``step`` (usable as a decorator)."""
    STEPS.append(step)
    return step
