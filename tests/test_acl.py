"""ACLs through real clients: redis-py's acl_* helpers and Redis(username=, password=),
redis-cli --user/--pass, disconnection on user change, config directives and aclfile,
and the demo examples/tenants.py.  The byte-exact replies are in compat/cases/acl_*.txt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis

from conftest import eventually

ROOT = Path(__file__).resolve().parent.parent


def users(client: Any) -> list[str]:
    return sorted(n.decode() if isinstance(n, bytes) else n for n in client.acl_users())


@pytest.fixture
def admin(respd: Any) -> Iterator[Any]:
    """A default-user client; every ACL user made in a test is removed afterwards."""
    client = respd.client(protocol=2)
    client.flushall()
    yield client
    for name in users(client):
        if name != "default":
            client.acl_deluser(name)
    # Not "reset": it would leave the sanitize-payload flag on the shared server.
    client.execute_command("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all",
                           "clearselectors")
    client.acl_log_reset()
    client.close()


def test_redis_py_setuser_getuser_roundtrip(admin: Any) -> None:
    assert admin.acl_setuser("svc", enabled=True, passwords=["+secret"],
                             keys=["svc:*"], channels=["svc.*"], commands=["+@read", "-keys"])
    info = admin.acl_getuser("svc")
    assert info["enabled"] is True
    assert info["keys"] == ["~svc:*"]  # 7.0's rule form
    assert info["channels"] == ["&svc.*"]
    assert "+@read" in info["categories"]  # redis-py splits the rule string
    assert "-keys" in info["commands"]
    assert len(info["passwords"]) == 1 and len(info["passwords"][0]) == 64
    assert admin.acl_getuser("nobody") is None
    assert users(admin) == ["default", "svc"]
    assert admin.acl_whoami() == "default"
    assert admin.acl_deluser("svc") == 1


def test_username_password_connection_and_denials(admin: Any, respd: Any) -> None:
    admin.acl_setuser("app", enabled=True, passwords=["+pw"], keys=["app:*"],
                      commands=["+get", "+set"])
    user = respd.client(username="app", password="pw")
    try:
        assert user.set("app:1", "v") is True
        assert user.get("app:1") == b"v"
        with pytest.raises(redis.exceptions.NoPermissionError, match="keys used as arguments"):
            user.get("other")
        with pytest.raises(redis.exceptions.NoPermissionError, match="'incrby' command"):
            user.incr("app:n")  # redis-py sends INCRBY
    finally:
        user.close()
    with pytest.raises(redis.exceptions.AuthenticationError):
        respd.client(username="app", password="wrong").ping()


def test_auth_command_and_log(admin: Any, respd: Any) -> None:
    admin.acl_setuser("u", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all"])
    client = respd.client()
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            client.auth("bad", username="u")
        assert client.auth("pw", username="u")
        assert client.acl_whoami() == "u"
    finally:
        client.close()
    entries = admin.acl_log()
    assert entries[0]["reason"] == "auth"
    assert entries[0]["username"] == "u"
    assert entries[0]["context"] == "toplevel"
    assert "client-info" in entries[0]
    assert admin.acl_log_reset()
    assert admin.acl_log() == []


def test_log_groups_repeats_and_respects_max_len(admin: Any, respd: Any) -> None:
    admin.acl_setuser("n", enabled=True, nopass=True, commands=["+get"], keys=["a*"])
    client = respd.client(username="n", password="x")
    try:
        for _ in range(3):
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.get("zz")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("a1", "v")
    finally:
        client.close()
    entries = admin.acl_log()
    assert [(e["reason"], e["object"], e["count"]) for e in entries[:2]] == [
        ("command", "set", 1), ("key", "zz", 3)]
    admin.config_set("acllog-max-len", 1)
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            respd.client(username="n", password="x").get("other-key")
        assert len(admin.acl_log()) == 1
    finally:
        admin.config_set("acllog-max-len", 128)


def test_deluser_and_changes_disconnect(admin: Any, respd: Any) -> None:
    admin.acl_setuser("gone", enabled=True, nopass=True, keys=["*"], commands=["+@all"])
    client = respd.client(username="gone", password="x")
    assert client.ping()
    assert admin.acl_deluser("gone") == 1
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()  # the connection was closed; redis-py retries once, as the default user
        client.ping()
    client.close()


def test_revoked_channel_drops_subscriber(admin: Any, respd: Any) -> None:
    admin.acl_setuser("sub", enabled=True, nopass=True, channels=["news.*", "alerts"],
                      commands=["+@pubsub", "+ping"])
    sub = respd.client(username="sub", password="x")
    pubsub = sub.pubsub()
    try:
        pubsub.subscribe("news.1")
        assert pubsub.get_message(timeout=2)["type"] == "subscribe"
        # Adding a channel keeps it; removing news.* drops it.
        admin.acl_setuser("sub", channels=["more"])
        assert admin.pubsub_numsub("news.1") == [(b"news.1", 1)]
        admin.acl_setuser("sub", reset_channels=True, channels=["alerts"])
        assert eventually(lambda: admin.pubsub_numsub("news.1") == [(b"news.1", 0)])
    finally:
        pubsub.close()
        sub.close()


def test_restricted_client_pipeline_is_checked(admin: Any, respd: Any) -> None:
    """A restricted user's pipelined commands go through the full check (not the inline
    fast path)."""
    admin.acl_setuser("p", enabled=True, nopass=True, keys=["ok:*"], commands=["+set", "+get"])
    client = respd.client(username="p", password="x")
    try:
        pipe = client.pipeline(transaction=False)
        for i in range(20):
            pipe.set(f"ok:{i}", i)
            pipe.set(f"no:{i}", i)
        replies = pipe.execute(raise_on_error=False)
        assert replies[0::2] == [True] * 20
        assert all(isinstance(r, redis.exceptions.NoPermissionError) for r in replies[1::2])
        assert admin.exists(*[f"no:{i}" for i in range(20)]) == 0
    finally:
        client.close()


def test_requirepass_is_the_default_users_password(admin: Any, respd: Any) -> None:
    admin.config_set("requirepass", "topsecret")
    try:
        assert admin.acl_getuser("default")["passwords"] != []
        with pytest.raises(redis.exceptions.AuthenticationError):
            respd.client().ping()
        assert respd.client(password="topsecret").ping()
        assert admin.ping()  # already authenticated connections stay so
    finally:
        admin.config_set("requirepass", "")
    assert "nopass" in admin.acl_getuser("default")["flags"]


def test_redis_cli_user_and_pass(admin: Any, respd: Any, tool: Any) -> None:
    admin.acl_setuser("cli", enabled=True, passwords=["+clipw"], keys=["*"],
                      commands=["+@all"])
    cli = tool("redis-cli")
    out = subprocess.run([cli, "-p", str(respd.port), "--user", "cli", "--pass", "clipw",
                          "ACL", "WHOAMI"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "cli"
    out = subprocess.run([cli, "-p", str(respd.port), "--user", "cli", "--pass", "nope",
                          "PING"], capture_output=True, text=True, timeout=10)
    assert "WRONGPASS" in out.stdout + out.stderr


def test_user_directives(spawn: Any) -> None:
    """`user` lines (here on the command line, as redis-server also takes them)."""
    server = spawn("respd", "--user", "alice", "on", ">a", "~a:*", "+@all",
                   "--user", "default", "on", "nopass", "~*", "&*", "-@all", "+@all")
    admin = server.client()
    try:
        listing = admin.acl_list()
        assert listing[0].startswith("user alice on #")
        assert listing[1] == "user default on nopass sanitize-payload ~* &* +@all"
        alice = server.client(username="alice", password="a")
        assert alice.set("a:1", "x")
        with pytest.raises(redis.exceptions.NoPermissionError):
            alice.set("b:1", "x")
        alice.close()
    finally:
        admin.close()


def test_bad_user_directive_stops_startup(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("user alice on +nosuch\n")
    out = subprocess.run([sys.executable, "-m", "respd", str(conf)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode != 0
    assert "Error in user declaration '+nosuch': Unknown command or category name in ACL" \
        in out.stderr


def test_aclfile_load_and_save(spawn: Any, tmp_path: Path) -> None:
    aclfile = tmp_path / "users.acl"
    aclfile.write_text("user bob on >b ~b:* +get\n")
    server = spawn("respd", "--aclfile", str(aclfile))
    admin = server.client()
    try:
        assert users(admin) == ["bob", "default"]
        admin.acl_setuser("carol", enabled=True, nopass=True)
        assert admin.acl_save()
        text = aclfile.read_text()
        assert "user carol on nopass resetchannels -@all" in text
        assert text.startswith("user bob on #")
        aclfile.write_text("user dave on nopass\n")
        assert admin.acl_load()
        assert users(admin) == ["dave", "default"]
        aclfile.write_text("user eve on +nosuch\nbogus\n")
        with pytest.raises(redis.exceptions.ResponseError,
                           match="should start with user keyword"):
            admin.acl_load()
        assert users(admin) == ["dave", "default"]  # unchanged
    finally:
        admin.close()


def test_acl_pubsub_default_allchannels(spawn: Any) -> None:
    server = spawn("respd", "--acl-pubsub-default", "allchannels")
    admin = server.client()
    try:
        admin.acl_setuser("x")
        assert admin.acl_list()[1] == "user x off &* -@all"
        admin.config_set("acl-pubsub-default", "resetchannels")
        admin.acl_setuser("y")
        assert admin.acl_list()[2] == "user y off resetchannels -@all"
    finally:
        admin.close()


def test_same_replies_as_redis_for_scripted_denials(redis_ref: Any, respd: Any) -> None:
    """redis.call inside EVAL runs with the caller's permissions, on both servers."""
    results = []
    for server in (redis_ref, respd):
        admin = server.client()
        admin.acl_setuser("lua", enabled=True, nopass=True, keys=["k*"],
                          commands=["+eval", "+get"])
        user = server.client(username="lua", password="x")
        try:
            outcome = []
            for script in ("return redis.call('get', 'kx')", "return redis.call('get', 'zz')",
                           "return redis.call('set', 'k1', 'v')"):
                try:
                    outcome.append(user.eval(script, 0))
                except redis.exceptions.ResponseError as err:
                    outcome.append(str(err))
            log = admin.acl_log(count=1)[0]
            outcome.append((log["context"], log["reason"], log["object"]))
            results.append(outcome)
        finally:
            user.close()
            admin.acl_deluser("lua")
            admin.acl_log_reset()
            admin.close()
    assert results[0] == results[1]


def test_tenants_demo_runs() -> None:
    demo = ROOT / "examples" / "tenants.py"
    out = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "refused: NOPERM" in out.stdout
    assert "ACL LOG" in out.stdout
