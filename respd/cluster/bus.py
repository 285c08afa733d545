"""The cluster bus: Redis 7.0's binary clusterMsg over TCP on cluster-port.

Header (2256 bytes, big-endian): "RCmb", totlen, version 1, port, type, count,
currentEpoch, configEpoch, offset, sender name (40), slot bitmap (2048), slaveof (40),
myip (46), extensions, 30 reserved, pport, cport, flags, state, mflags[3]; then for
PING/PONG/MEET `count` gossip entries of 104 bytes (extensions, which Redis 7.0 appends
for the hostname, are skipped).  MEET/PING/PONG with gossip, FAIL, UPDATE, PUBLISH, and
the failover messages (FAILOVER_AUTH_REQUEST/ACK, MFSTART; their logic is in
respd.cluster.failover) are handled."""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from typing import Any

from respd.cluster import config_file
from respd.cluster.failover import Elections
from respd.cluster.state import (FAIL, HANDSHAKE, MASTER, MEET, MYSELF, NOADDR, NOFAILOVER,
                                 NULL_NAME, PFAIL, SLAVE, ClusterState, Node, now_ms,
                                 random_name)

log = logging.getLogger("respd")

PING, PONG, MEET_MSG, FAIL_MSG, PUBLISH, UPDATE, PUBLISHSHARD = 0, 1, 2, 3, 4, 7, 10
AUTH_REQUEST, AUTH_ACK, MFSTART = 5, 6, 8
# mflags[0] bits: a primary paused for a manual failover; vote although it is not failing.
PAUSED, FORCEACK = 1, 2
_HEADER = struct.Struct(">4sIHHHHQQQ40s2048s40s46sH30sHHHB3s")
_GOSSIP = struct.Struct(">40sII46sHHHHH")
_UPDATE = struct.Struct(">Q40s2048s")
_PUBLISH = struct.Struct(">II")
assert _HEADER.size == 2256 and _GOSSIP.size == 104
_MAX_MSG = 1 << 27


def _name(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii", "replace")


def _ip(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


class Link(asyncio.Protocol):
    """One bus connection; ``node`` is set for the ones we opened to a node."""

    def __init__(self, bus: "Bus", node: Node | None) -> None:
        self.bus = bus
        self.node = node
        self.transport: Any = None
        self.buf = bytearray()
        self.connected = False
        self.ctime = now_ms()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.connected = True
        self.bus.links.add(self)
        if self.node is not None:
            self.bus.link_up(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while len(buf) >= 8:
            if buf[:4] != b"RCmb":
                self.close()
                return
            totlen = int.from_bytes(buf[4:8], "big")
            if totlen < 8 or totlen > _MAX_MSG:
                self.close()
                return
            if len(buf) < totlen:
                return
            msg = bytes(buf[:totlen])
            del buf[:totlen]
            if totlen >= _HEADER.size:
                try:
                    self.bus.process(self, msg)
                except Exception:  # a bad packet must cost the link, never the server
                    log.exception("cluster bus: bad packet")
                    self.close()
                    return

    def send(self, msg: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(msg)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.connected = False

    def connection_lost(self, exc: Exception | None) -> None:
        self.connected = False
        self.bus.links.discard(self)
        if self.node is not None and self.node.link is self:
            self.node.link = None


class Bus:
    def __init__(self, server: Any, state: ClusterState) -> None:
        self.server = server
        self.state = state
        self.links: set[Link] = set()
        self.servers: list[Any] = []
        self._handle: Any = None
        self._ticks = 0
        self.elections = Elections(self)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        port = self.server.config.cluster_port or self.server.config.port + 10000
        for host in self.server.config.bind:
            host = host.lstrip("-")
            if host == "*":
                host = "0.0.0.0"
            try:
                self.servers.append(
                    await loop.create_server(lambda: Link(self, None), host, port))
            except OSError as exc:
                if host in ("::", "::1"):
                    continue  # no IPv6 on this machine, as Redis tolerates
                raise
        self._handle = loop.call_later(0.1, self._cron)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        for srv in self.servers:
            srv.close()
        for link in list(self.links):
            link.close()
        self.save_if_changed()

    def save_if_changed(self) -> None:
        if self.state.changed:
            config_file.save(self.state, self.server.config.cluster_config_file)

    # --- messages out --------------------------------------------------------------------

    def _header(self, type_: int, count: int, body_len: int, mflags: int = 0) -> bytes:
        state = self.state
        me = state.myself
        master = me.master if me.has(SLAVE) else None
        slots = master.slots if master is not None else me.slots
        epoch = master.config_epoch if master is not None else me.config_epoch
        ip = (state.config.cluster_announce_ip or "").encode()
        if master is None and self.elections.mf_end:
            mflags |= PAUSED
        return _HEADER.pack(
            b"RCmb", _HEADER.size + body_len, 1, me.port, type_, count, state.current_epoch,
            epoch, self.server.replication.offset, me.name.encode(), bytes(slots),
            master.name.encode() if master is not None else NULL_NAME, ip, 0, b"", 0,
            me.cport, me.flags & 0xFFFF, 0 if state.ok else 1, bytes((mflags, 0, 0)))

    def _ping(self, type_: int) -> bytes:
        entries = []
        for node in self.state.nodes.values():
            if node.has(MYSELF | HANDSHAKE | NOADDR):
                continue
            entries.append(_GOSSIP.pack(
                node.name.encode(), node.ping_sent // 1000, node.pong_received // 1000,
                node.ip.encode(), node.port, node.cport, node.flags, 0, 0))
        body = b"".join(entries)
        self.state.stats_sent[type_] += 1
        return self._header(type_, len(entries), len(body)) + body

    def send_ping(self, link: Link, type_: int) -> None:
        node = link.node
        if type_ != PONG and node is not None and node.ping_sent == 0:
            node.ping_sent = now_ms()
        link.send(self._ping(type_))

    def broadcast(self, msg: bytes, local_replicas: bool = False) -> None:
        """To every connected node, or only our primary's other replicas."""
        me = self.state.myself
        for node in self.state.nodes.values():
            if node.link is not None and node.link.connected and not node.has(
                    MYSELF | HANDSHAKE) and (not local_replicas or (
                        node.has(SLAVE) and node.master is me.master)):
                node.link.send(msg)

    def broadcast_pong(self, local_replicas: bool = False) -> None:
        self.broadcast(self._ping(PONG), local_replicas)

    def send_ping_on(self, link: "Link") -> None:
        link.send(self._ping(PING))

    def send_auth_request(self, force_ack: bool) -> None:
        self.state.stats_sent[AUTH_REQUEST] += 1
        self.broadcast(self._header(AUTH_REQUEST, 0, 0, FORCEACK if force_ack else 0))

    def send_auth_ack(self, link: "Link", node: Node) -> None:
        """On the node's own link when we have one, else back where the request came."""
        self.state.stats_sent[AUTH_ACK] += 1
        out = node.link if node.link is not None and node.link.connected else link
        out.send(self._header(AUTH_ACK, 0, 0))

    def send_mfstart(self, master: Node) -> None:
        if master.link is not None and master.link.connected:
            self.state.stats_sent[MFSTART] += 1
            master.link.send(self._header(MFSTART, 0, 0))

    def broadcast_fail(self, node: Node) -> None:
        self.state.stats_sent[FAIL_MSG] += 1
        self.broadcast(self._header(FAIL_MSG, 0, 40) + node.name.encode())

    def publish(self, channel: bytes, message: bytes, shard: bool = False) -> None:
        """PUBLISH to every node; SPUBLISH to the other nodes of our shard."""
        type_ = PUBLISHSHARD if shard else PUBLISH
        body = _PUBLISH.pack(len(channel), len(message)) + channel + message
        self.state.stats_sent[type_] += 1
        msg = self._header(type_, 0, len(body)) + body
        if not shard:
            self.broadcast(msg)
            return
        me = self.state.myself
        primary = me.master if me.has(SLAVE) else me
        for node in self.state.nodes.values():
            if node is not me and (node is primary or node.master is primary) \
                    and node.link is not None and node.link.connected:
                node.link.send(msg)

    def send_update(self, link: Link, node: Node) -> None:
        body = _UPDATE.pack(node.config_epoch, node.name.encode(), bytes(node.slots))
        self.state.stats_sent[UPDATE] += 1
        link.send(self._header(UPDATE, 0, len(body)) + body)

    def link_up(self, link: Link) -> None:
        node = link.node
        assert node is not None
        if node.has(MEET):
            node.flags &= ~MEET
            self.send_ping(link, MEET_MSG)
        else:
            self.send_ping(link, PING)

    # --- messages in ---------------------------------------------------------------------

    def process(self, link: Link, msg: bytes) -> None:
        (_sig, _totlen, _ver, port, type_, count, cur_epoch, cfg_epoch, offset, sender_raw,
         slots, slaveof_raw, myip, _ext, _unused, _pport, cport, flags, _st,
         mflags) = _HEADER.unpack_from(msg)
        state = self.state
        if type_ < len(state.stats_received):
            state.stats_received[type_] += 1
        sender_name = _name(sender_raw)
        sender = state.nodes.get(sender_name)
        if sender is not None and sender.has(HANDSHAKE):
            sender = None
        if sender is not None:
            if cur_epoch > state.current_epoch:
                state.current_epoch = cur_epoch
                state.changed = True
            if cfg_epoch > sender.config_epoch:
                sender.config_epoch = cfg_epoch
                state.changed = True
            sender.repl_offset = offset
            self.elections.master_offset(sender, offset, bool(mflags[0] & PAUSED))
        if type_ in (PING, MEET_MSG):
            if not state.config.cluster_announce_ip and (
                    type_ == MEET_MSG or not state.myself.ip):
                local = link.transport.get_extra_info("sockname")
                if local and local[0] != state.myself.ip:
                    state.myself.ip = local[0]
                    state.changed = True
            if sender is None and type_ == MEET_MSG:
                node = Node(random_name(), HANDSHAKE, _ip(myip) or self._peer_ip(link),
                            port, cport)
                state.add_node(node)
                self._gossip(None, msg, count)
            self.send_ping(link, PONG)
        if type_ in (PING, PONG, MEET_MSG):
            if link.node is not None:
                node = link.node
                if node.has(HANDSHAKE):
                    if sender is not None:  # already known under its real name
                        state.remove_node(node)
                        return
                    if sender_name in state.nodes:
                        state.remove_node(state.nodes[sender_name])
                    state.rename(node, sender_name)
                    node.flags &= ~HANDSHAKE
                    node.flags |= flags & (MASTER | SLAVE)
                    sender = node
                    sender.config_epoch = cfg_epoch
                elif node.name != sender_name:
                    return  # the address now answers as another node
            if type_ == PONG and link.node is not None and sender is link.node:
                node = link.node
                node.pong_received = now_ms()
                node.ping_sent = 0
                if node.has(PFAIL):
                    node.flags &= ~PFAIL
                    state.changed = True
            if sender is None:
                return
            if sender.has(FAIL) and (not sender.num_slots or sender.has(SLAVE) or now_ms()
                                     - sender.fail_time > state.config.cluster_node_timeout * 2):
                sender.flags &= ~FAIL
                state.changed = True
            self._role(sender, slaveof_raw)
            if sender.has(MASTER):
                self._claim(link, sender, slots, cfg_epoch)
            self._collision(sender)
            self._gossip(sender, msg, count)
        elif type_ == FAIL_MSG and sender is not None:
            failing = state.nodes.get(_name(msg[_HEADER.size:_HEADER.size + 40]))
            if failing is not None and not failing.has(MYSELF | FAIL):
                failing.flags = (failing.flags | FAIL) & ~PFAIL
                failing.fail_time = now_ms()
                state.changed = True
        elif type_ == UPDATE and sender is not None:
            epoch, name_raw, new_slots = _UPDATE.unpack_from(msg, _HEADER.size)
            node = state.nodes.get(_name(name_raw))
            if node is not None and node.config_epoch < epoch:
                node.config_epoch = epoch
                self._apply_slots(node, new_slots, epoch)
        elif type_ == AUTH_REQUEST and sender is not None:
            self.elections.vote(link, sender, cur_epoch, cfg_epoch, self._set_bits(slots),
                                bool(mflags[0] & FORCEACK))
        elif type_ == AUTH_ACK and sender is not None:
            self.elections.ack_received(sender, cur_epoch)
        elif type_ == MFSTART:
            self.elections.mfstart_received(link, sender)
        elif type_ in (PUBLISH, PUBLISHSHARD) and sender is not None:
            clen, mlen = _PUBLISH.unpack_from(msg, _HEADER.size)
            start = _HEADER.size + 8
            channel = msg[start:start + clen]
            message = msg[start + clen:start + clen + mlen]
            self.server.pubsub.publish(channel, message, type_ == PUBLISHSHARD)

    def _peer_ip(self, link: Link) -> str:
        peer = link.transport.get_extra_info("peername")
        return peer[0] if peer else ""

    def _role(self, sender: Node, slaveof_raw: bytes) -> None:
        if slaveof_raw == NULL_NAME:
            if sender.has(SLAVE):
                sender.flags = (sender.flags & ~SLAVE) | MASTER
                sender.master = None
                self.state.changed = True
        else:
            master = self.state.nodes.get(_name(slaveof_raw))
            if not sender.has(SLAVE) or sender.master is not master:
                for slot in range(len(self.state.slots)):
                    if self.state.slots[slot] is sender:
                        self.state.del_slot(slot)
                sender.flags = (sender.flags & ~MASTER) | SLAVE
                sender.master = master
                self.state.changed = True

    def _claim(self, link: Link, sender: Node, slots: bytes, epoch: int) -> None:
        """A master's PING/PONG lists its slots: take what its epoch wins, and tell it
        (UPDATE) when a slot it claims belongs to a node with a greater epoch."""
        if slots == bytes(sender.slots):
            return
        state = self.state
        self._apply_slots(sender, slots, epoch)
        for slot in self._set_bits(slots):
            owner = state.slots[slot]
            if owner is not None and owner is not sender and owner.config_epoch > epoch:
                self.send_update(link, owner)
                return

    def _apply_slots(self, node: Node, slots: bytes, epoch: int) -> None:
        """Redis's clusterUpdateSlotsConfigWith: a slot moves to ``node`` unless it is
        being imported here or its owner has a greater config epoch.  When our primary
        (or we, a primary) lost its last slot to ``node``, we become its replica."""
        state = self.state
        me = state.myself
        ours = me if me.has(MASTER) else me.master
        claimed = moved_ours = 0
        for slot in self._set_bits(slots):
            claimed += 1
            owner = state.slots[slot]
            if owner is node or slot in state.importing:
                continue
            if owner is None or owner.config_epoch < epoch:
                if owner is me and state.migrating.get(slot) is node:
                    del state.migrating[slot]
                if owner is ours and owner is not None:
                    moved_ours += 1
                state.add_slot(node, slot)
        if moved_ours and ours is not None and ours.num_slots == 0 and node is not me and (
                state.config.cluster_allow_replica_migration or claimed == moved_ours):
            log.warning("Configuration change detected. Reconfiguring myself as a replica "
                        "of %s", node.name)
            self.elections.set_master(node)
        state.update_state()

    @staticmethod
    def _set_bits(bitmap: bytes) -> list[int]:
        out = []
        for i, byte in enumerate(bitmap):
            if byte:
                for bit in range(8):
                    if byte & (1 << bit):
                        out.append(i * 8 + bit)
        return out

    def _collision(self, sender: Node) -> None:
        """Two masters with one config epoch: the one with the smaller name takes a new
        epoch (Redis's clusterHandleConfigEpochCollision)."""
        me = self.state.myself
        if (sender.config_epoch == me.config_epoch and sender.has(MASTER)
                and me.has(MASTER) and sender.name < me.name):
            self.state.current_epoch += 1
            me.config_epoch = self.state.current_epoch
            self.state.changed = True

    def _gossip(self, sender: Node | None, msg: bytes, count: int) -> None:
        state = self.state
        now = now_ms()
        offset = _HEADER.size
        for _ in range(count):
            if offset + _GOSSIP.size > len(msg):
                break
            name_raw, _ps, _pr, ip_raw, port, cport, flags, _pp, _n = _GOSSIP.unpack_from(
                msg, offset)
            offset += _GOSSIP.size
            name = _name(name_raw)
            node = state.nodes.get(name)
            if node is not None:
                if sender is not None and sender.has(MASTER) and not node.has(MYSELF):
                    if flags & (FAIL | PFAIL):
                        node.fail_reports[sender.name] = now
                        self._maybe_fail(node)
                    else:
                        node.fail_reports.pop(sender.name, None)
                continue
            if sender is None or flags & NOADDR or not ip_raw.strip(b"\0"):
                continue
            if state.blacklist.get(name, 0) > asyncio.get_running_loop().time():
                continue
            self.start_handshake(_ip(ip_raw), port, cport)

    def start_handshake(self, ip: str, port: int, cport: int) -> bool:
        for node in self.state.nodes.values():
            if node.has(HANDSHAKE) and node.ip == ip and node.port == port \
                    and node.cport == cport:
                return False
        self.state.add_node(Node(random_name(), HANDSHAKE | MEET, ip, port, cport))
        return True

    # --- failure detection ---------------------------------------------------------------

    def _maybe_fail(self, node: Node) -> None:
        state = self.state
        if not node.has(PFAIL) or node.has(FAIL):
            return
        valid = now_ms() - state.config.cluster_node_timeout * 2
        for reporter, when in list(node.fail_reports.items()):
            if when < valid:
                del node.fail_reports[reporter]
        failures = len(node.fail_reports) + (1 if state.myself.has(MASTER) else 0)
        if failures < state.size() // 2 + 1:
            return
        node.flags = (node.flags | FAIL) & ~PFAIL
        node.fail_time = now_ms()
        state.changed = True
        self.broadcast_fail(node)

    # --- cron ----------------------------------------------------------------------------

    def _cron(self) -> None:
        try:
            self._tick()
        except Exception:
            log.exception("cluster cron failed")
        self._handle = asyncio.get_running_loop().call_later(0.1, self._cron)

    def _tick(self) -> None:
        state = self.state
        now = now_ms()
        timeout = state.config.cluster_node_timeout
        loop = asyncio.get_running_loop()
        self._ticks += 1
        self._announce()
        for node in list(state.nodes.values()):
            if node.has(MYSELF | NOADDR):
                continue
            if node.has(HANDSHAKE) and now - node.ctime > max(timeout, 1000):
                state.remove_node(node)
                continue
            if node.link is None:
                # The connection carries a PING at once: it counts as sent from now, so
                # a node that stopped answering is noticed even when it cannot be reached.
                if node.ping_sent == 0:
                    node.ping_sent = now
                node.link = Link(self, node)
                loop.create_task(self._connect(node, node.link))
        if self._ticks % 10 == 0:  # about once a second, the node heard from least lately
            candidates = [n for n in random.sample(list(state.nodes.values()),
                                                   min(5, len(state.nodes)))
                          if n.link is not None and n.link.connected and n.ping_sent == 0
                          and not n.has(MYSELF | HANDSHAKE)]
            if candidates:
                target = min(candidates, key=lambda n: n.pong_received)
                self.send_ping(target.link, PING)
        for node in list(state.nodes.values()):
            if node.has(MYSELF | NOADDR | HANDSHAKE):
                continue
            link = node.link
            if (link is not None and link.connected and node.ping_sent
                    and now - node.ping_sent > timeout / 2 and now - link.ctime > timeout):
                link.close()  # a fresh connection may do better
                node.link = None
            if (link is not None and link.connected and node.ping_sent == 0
                    and now - node.pong_received > timeout / 2):
                self.send_ping(link, PING)
                continue
            if node.ping_sent and now - node.ping_sent > timeout and not node.has(
                    PFAIL | FAIL):
                node.flags |= PFAIL
                state.changed = True
            if node.has(PFAIL):
                self._maybe_fail(node)
        me = state.myself
        no_failover = NOFAILOVER if state.config.cluster_replica_no_failover else 0
        if me.flags & NOFAILOVER != no_failover:
            me.flags ^= NOFAILOVER
            state.changed = True
        if me.has(SLAVE):
            self.elections.follow()
        self.elections.cron()
        state.update_state()
        self.save_if_changed()

    def _announce(self) -> None:
        """CONFIG SET of cluster-announce-* takes effect here, as in Redis's cron."""
        config, me = self.state.config, self.state.myself
        port = config.cluster_announce_port or config.port
        cport = config.cluster_announce_bus_port or config.cluster_port or config.port + 10000
        if config.cluster_announce_ip and config.cluster_announce_ip != me.ip:
            me.ip = config.cluster_announce_ip
            self.state.changed = True
        if (port, cport) != (me.port, me.cport):
            me.port, me.cport = port, cport
            self.state.changed = True

    async def _connect(self, node: Node, link: Link) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: link, node.ip, node.cport), 2)
        except (OSError, asyncio.TimeoutError):
            if node.link is link:
                node.link = None
