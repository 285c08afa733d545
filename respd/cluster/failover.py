"""Replicas in a cluster (Redis 7.0 cluster.c, the replica's half and the primaries'
votes).

A cluster replica follows its primary through the server's replication
(respd.replication); this module decides the roles.  ``set_master`` is CLUSTER
REPLICATE (and what a node does when its primary's slots went to another node).  When
a primary is FAIL, each of its replicas schedules an election (500-1000 ms, plus one
second per sibling with a greater replication offset), takes a new current epoch and
asks every primary for a vote (FAILOVER_AUTH_REQUEST); a primary serving slots votes
once per epoch, for one replica of a failed primary per two node timeouts
(FAILOVER_AUTH_ACK).  With votes from a majority of the primaries serving slots, the
replica takes its primary's slots under the election's epoch and tells everyone (PONG).

CLUSTER FAILOVER is the manual form: the replica sends MFSTART, its primary pauses writes
and reports its offset in a PING flagged PAUSED, the replica waits until it has
replicated that much and runs the election at once with FORCEACK (primaries vote
although the primary is not failing).  FORCE skips the handshake; TAKEOVER skips the
election too (a new config epoch without consensus).
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from respd.cluster.state import FAIL, MASTER, MIGRATE_TO, NOFAILOVER, SLAVE, Node, now_ms
from respd.replication import replicate_from, replicate_none
from respd.storage.slots import N_SLOTS

if TYPE_CHECKING:
    from respd.cluster.bus import Bus

log = logging.getLogger("respd")

MF_TIMEOUT = 5000  # ms a manual failover may take (Redis's CLUSTER_MF_TIMEOUT)
MF_PAUSE_MULT = 2  # the primary pauses writes this many times as long


class Elections:
    """This node's election (as a replica) and manual failover (either side)."""

    def __init__(self, bus: "Bus") -> None:
        self.bus = bus
        self.state = bus.state
        self.server: Any = bus.server
        self.auth_time = 0  # when the election may start (ms)
        self.auth_count = 0
        self.auth_sent = False
        self.auth_rank = 0
        self.auth_epoch = 0
        self.mf_end = 0  # a manual failover in progress until then (ms)
        self.mf_replica: Node | None = None  # the primary's side: who asked
        self.mf_master_offset = -1  # the replica's side: the paused primary's offset
        self.mf_can_start = False

    # --- roles ---------------------------------------------------------------------------

    def set_master(self, master: Node) -> None:
        """clusterSetMaster: become (or stay) a replica, of ``master``."""
        state = self.state
        me = state.myself
        if me.has(MASTER):
            me.flags = (me.flags & ~(MASTER | MIGRATE_TO)) | SLAVE
            state.importing.clear()
            state.migrating.clear()
        me.master = master
        self.follow()
        self.reset_manual()
        state.changed = True
        state.update_state()

    def follow(self) -> None:
        """Point the replication link at our primary's address (after REPLICATE, a
        restart from nodes.conf, or the primary announcing a new address)."""
        master = self.state.myself.master
        if master is None or not master.ip or not master.port:
            return
        link = self.server.replication.master
        if link is None or (link.host, link.port) != (master.ip, master.port):
            replicate_from(self.server, master.ip, master.port)

    def replace_master(self) -> None:
        """clusterFailoverReplaceYourMaster: a primary from now on, with the old
        primary's slots, announced to every node."""
        state = self.state
        me = state.myself
        old = me.master
        if me.has(MASTER) or old is None:
            return
        me.flags = (me.flags & ~SLAVE) | MASTER
        me.master = None
        replicate_none(self.server)
        for slot in range(N_SLOTS):
            if state.slots[slot] is old:
                state.add_slot(me, slot)
        state.changed = True
        state.update_state()
        self.bus.save_if_changed()
        self.bus.broadcast_pong()
        self.reset_manual()

    # --- the replica's election -------------------------------------------------------------

    def _rank(self) -> int:
        """Siblings with a greater replication offset than ours (each adds a second)."""
        me = self.state.myself
        mine = self.server.replication.offset
        return sum(1 for n in self.state.nodes.values()
                   if n.master is me.master and n is not me and not n.has(NOFAILOVER)
                   and n.repl_offset > mine)

    def _data_age(self, now: int) -> int:
        """How old our copy of the primary's data is, beyond the node timeout (ms)."""
        link = self.server.replication.master
        if link is None:
            return 0
        since = link.last_io if link.up else link.down_since
        age = now - int(since * 1000)
        timeout = self.state.config.cluster_node_timeout
        return age - timeout if age > timeout else age

    def cron(self) -> None:
        """clusterHandleManualFailover + clusterHandleSlaveFailover, every bus tick."""
        now = now_ms()
        if self.mf_end and self.mf_end < now:
            log.warning("Manual failover timed out.")
            self.reset_manual()
        state = self.state
        me = state.myself
        master = me.master
        if me.has(MASTER) or master is None:
            return
        if self.mf_end and not self.mf_can_start and self.mf_master_offset != -1 \
                and self.server.replication.offset >= self.mf_master_offset:
            self.mf_can_start = True
            log.warning("All master replication stream processed, manual failover can start.")
        manual = bool(self.mf_end and self.mf_can_start)
        config = state.config
        if (not master.has(FAIL) and not manual) or master.num_slots == 0:
            return
        if config.cluster_replica_no_failover and not manual:
            return
        timeout = config.cluster_node_timeout
        auth_timeout = max(timeout * 2, 2000)
        factor = config.cluster_replica_validity_factor
        if factor and not manual and self._data_age(now) > (
                config.repl_ping_replica_period * 1000 + timeout * factor):
            return  # our data is too old to take over
        if now - self.auth_time > auth_timeout * 2:
            self.auth_time = now + 500 + random.randint(0, 499)
            self.auth_count = 0
            self.auth_sent = False
            self.auth_rank = self._rank()
            self.auth_time += self.auth_rank * 1000
            if manual:
                self.auth_time = now
                self.auth_rank = 0
            log.warning("Start of election delayed for %d milliseconds (rank #%d, offset %d).",
                        self.auth_time - now, self.auth_rank, self.server.replication.offset)
            self.bus.broadcast_pong(local_replicas=True)  # our offset, for their ranks
            return
        if not self.auth_sent and not manual:
            rank = self._rank()
            if rank > self.auth_rank:
                self.auth_time += (rank - self.auth_rank) * 1000
                self.auth_rank = rank
        if now < self.auth_time or now - self.auth_time > auth_timeout:
            return  # not yet, or this election expired (a new one after the retry time)
        if not self.auth_sent:
            state.current_epoch += 1
            self.auth_epoch = state.current_epoch
            state.changed = True
            log.warning("Starting a failover election for epoch %d.", self.auth_epoch)
            self.bus.send_auth_request(force_ack=bool(self.mf_end))
            self.auth_sent = True
            return
        if self.auth_count >= state.size() // 2 + 1:
            log.warning("Failover election won: I'm the new master.")
            if me.config_epoch < self.auth_epoch:
                me.config_epoch = self.auth_epoch
            self.replace_master()

    def ack_received(self, sender: Node, sender_epoch: int) -> None:
        if sender.has(MASTER) and sender.num_slots and sender_epoch >= self.auth_epoch:
            self.auth_count += 1
            self.cron()

    # --- the primaries' votes ------------------------------------------------------------

    def vote(self, link: Any, node: Node, request_epoch: int, claimed_epoch: int,
             claimed: list[int], force_ack: bool) -> None:
        """clusterSendFailoverAuthIfNeeded: one vote per epoch, for a replica of a failed
        primary (or any primary with FORCEACK) whose claimed slots are not newer
        elsewhere."""
        state = self.state
        me = state.myself
        if me.has(SLAVE) or me.num_slots == 0:
            return  # only primaries serving slots vote
        if request_epoch < state.current_epoch or state.last_vote_epoch == state.current_epoch:
            return
        master = node.master
        if not node.has(SLAVE) or master is None or (not master.has(FAIL) and not force_ack):
            return
        now = now_ms()
        if now - master.voted_time < state.config.cluster_node_timeout * 2:
            return  # we voted for a replica of this primary lately
        for slot in claimed:
            owner = state.slots[slot]
            if owner is not None and owner.config_epoch > claimed_epoch:
                return  # a slot it claims has a newer owner
        state.last_vote_epoch = state.current_epoch
        master.voted_time = now
        state.changed = True
        self.bus.save_if_changed()
        log.warning("Failover auth granted to %s for epoch %d", node.name, state.current_epoch)
        self.bus.send_auth_ack(link, node)

    # --- manual failover -----------------------------------------------------------------

    def start_manual(self, force: bool, takeover: bool) -> None:
        """CLUSTER FAILOVER on a replica (preconditions checked by the command)."""
        self.reset_manual()
        self.mf_end = now_ms() + MF_TIMEOUT
        if takeover:
            self.state.bump_epoch(force=False)
            self.replace_master()
        elif force:
            self.mf_can_start = True
        else:
            self.bus.send_mfstart(self.state.myself.master)

    def mfstart_received(self, link: Any, sender: Node | None) -> None:
        """A replica of ours asks for a manual failover: pause writes, report our offset."""
        if sender is None or sender.master is not self.state.myself:
            return
        self.reset_manual()
        self.mf_end = now_ms() + MF_TIMEOUT
        self.mf_replica = sender
        self.server.pause.start(MF_TIMEOUT * MF_PAUSE_MULT, writes_only=True)
        log.warning("Manual failover requested by replica %s.", sender.name)
        self.bus.send_ping_on(link)  # flagged PAUSED, with our offset

    def master_offset(self, sender: Node, offset: int, paused: bool) -> None:
        """Our primary reports its offset while paused: replicate up to it, then go."""
        me = self.state.myself
        if self.mf_end and paused and me.has(SLAVE) and me.master is sender \
                and self.mf_master_offset == -1:
            self.mf_master_offset = offset
            self.cron()

    def reset_manual(self) -> None:
        if self.mf_replica is not None:
            self.server.pause.end()  # the primary's paused writes resume, whatever happened
        self.mf_end = 0
        self.mf_can_start = False
        self.mf_replica = None
        self.mf_master_offset = -1
