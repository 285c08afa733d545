"""Cluster mode start-up: the node table from cluster-config-file (or a fresh node),
then the bus listener."""

from __future__ import annotations

import logging
from typing import Any

from respd.cluster import config_file
from respd.cluster.bus import Bus
from respd.cluster.state import ClusterState

log = logging.getLogger("respd")


async def start_cluster(server: Any) -> None:
    state = ClusterState(server.config)
    path = server.config.cluster_config_file
    if config_file.load(state, path):
        log.info("Node configuration loaded, I'm %s", state.myself.name)
    else:
        log.info("No cluster configuration found, I'm %s", state.myself.name)
        state.changed = True
    state.update_state()
    server.cluster = state
    server.update_checks()  # cluster mode: every command goes through the redirection check
    server.cluster_bus = Bus(server, state)
    server.cluster_bus.save_if_changed()
    await server.cluster_bus.start()
