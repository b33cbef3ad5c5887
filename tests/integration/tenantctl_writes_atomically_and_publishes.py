"""tenantctl writes each change as one atomic step: the record changes as
asked, its version goes up by exactly one, and the matching event is
published on tcs:events; concurrent writes lose nothing. Bad arguments exit
2 with the usage, a missing site or a refused write exits 1 and changes
nothing, an unreachable Redis exits 1 with a clear message.

Runs its own redis-server on a free loopback port and stops it at the end,
whatever happens. The tool is $TE_BUILDDIR/tools/tenantctl (the harness's
default build directory otherwise).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BUILDDIR, SANITIZER_MARKS, TestFailure,  # noqa: E402
                     check, free_port, main)

TENANTCTL = os.path.join(BUILDDIR, "tools", "tenantctl")


class Resp:
    """A minimal RESP2 client over one socket: enough for GET, SELECT,
    DBSIZE and SUBSCRIBE."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise TestFailure("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise TestFailure("redis error: %s" % rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise TestFailure("bad RESP line %r" % line)

    def command(self, *args):
        self.send(*args)
        return self.reply()


class Events:
    """A subscriber on tcs:events, subscribed before the writes it
    watches."""

    def __init__(self, port):
        self.conn = Resp(port)
        self.conn.send("SUBSCRIBE", "tcs:events")
        ack = self.conn.reply()
        if ack[0] != "subscribe":
            raise TestFailure("SUBSCRIBE answered %r" % ack)

    def next(self, timeout=5.0):
        """The next event as a dict, or None when none came in time."""
        self.conn.sock.settimeout(timeout)
        try:
            msg = self.conn.reply()
        except socket.timeout:
            return None
        finally:
            self.conn.sock.settimeout(5.0)
        if msg[0] != "message" or msg[1] != "tcs:events":
            raise TestFailure("unexpected pubsub message %r" % msg)
        return json.loads(msg[2])


class RedisServer:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, tmpdir):
        self.proc = None
        binary = shutil.which("redis-server")
        if binary is None:
            raise TestFailure("redis-server is not installed")
        for _ in range(3):
            self.port = free_port()
            self.log = open(os.path.join(tmpdir, "redis-%d.log" % self.port),
                            "wb")
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=self.log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
            if self._ready():
                return
            self.stop()
        raise TestFailure("redis-server did not start")

    def _ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                c = Resp(self.port, timeout=1)
                try:
                    if c.command("PING") == "PONG":
                        return True
                finally:
                    c.close()
            except (OSError, TestFailure):
                time.sleep(0.05)
        return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def tenantctl(*args, addr=None):
    """Runs tenantctl (with -r addr unless addr is False); returns (exit
    status, stdout, stderr). A sanitizer report fails the test."""
    argv = [TENANTCTL] + (["-r", addr] if addr else []) + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    for mark in SANITIZER_MARKS:
        if mark in p.stderr:
            raise TestFailure("sanitizer report from %s:\n%s"
                              % (" ".join(argv), p.stderr))
    return p.returncode, p.stdout, p.stderr


def record(db, tenant):
    raw = db.command("GET", "tcs:tenant:" + tenant)
    return None if raw is None else json.loads(raw)


def test():
    tmpdir = tempfile.mkdtemp(prefix="te-tenantctl-")
    server = None
    try:
        server = RedisServer(tmpdir)
        run_all(server, tmpdir)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


def run_all(server, tmpdir):
    check(os.access(TENANTCTL, os.X_OK), "tenantctl is built at " + TENANTCTL)
    addr = "127.0.0.1:%d" % server.port
    db = Resp(server.port)
    events = Events(server.port)

    def ctl(*args):
        return tenantctl(*args, addr=addr)

    # create, with an id given and with one generated
    rc, out, err = ctl("create", "acme", "--id", "t-0001", "--region", "eu",
                       "--product", "jira:eu-jira-1",
                       "--product", "wiki:eu-wiki-1")
    check(rc == 0 and out == "created acme (t-0001) version 1\n",
          "create prints one line and exits 0 (%d %r %r)" % (rc, out, err))
    check(db.command("GET", "tcs:site:acme") == "t-0001",
          "tcs:site:acme maps to the tenant id")
    want = {"id": "t-0001", "site": "acme", "status": "active",
            "region": "eu", "version": 1, "features": [],
            "products": {
                "jira": {"status": "active", "shard": "eu-jira-1",
                         "seats": None},
                "wiki": {"status": "active", "shard": "eu-wiki-1",
                         "seats": None}}}
    check(record(db, "t-0001") == want,
          "the record is the DESIGN.md shape, all products active, "
          "seats null")
    check(events.next() == {"event": "create", "tenant": "t-0001",
                            "site": "acme", "version": 1},
          "create published its event")

    rc, out, _ = ctl("create", "beta", "--region", "us",
                     "--product", "jira:us-jira-1")
    m = re.fullmatch(r"created beta \((t-[0-9a-f]{8})\) version 1\n", out)
    check(rc == 0 and m is not None, "an id t-XXXXXXXX is generated")
    beta = m.group(1)
    check(record(db, beta)["site"] == "beta", "its record is stored")
    ev = events.next()
    check(ev is not None and ev["tenant"] == beta and ev["event"] == "create",
          "and its create event published")

    # every write: one step up in version, one event, the change made
    steps = [
        (["suspend", "acme"], "suspended acme",
         {"event": "suspend"}, lambda r: r["status"] == "suspended"),
        (["unsuspend", "acme"], "unsuspended acme",
         {"event": "unsuspend"}, lambda r: r["status"] == "active"),
        (["suspend", "acme", "--product", "jira"],
         "suspended acme product jira",
         {"event": "suspend", "product": "jira"},
         lambda r: r["products"]["jira"]["status"] == "suspended"
         and r["status"] == "active"),
        (["unsuspend", "acme", "--product", "jira"],
         "unsuspended acme product jira",
         {"event": "unsuspend", "product": "jira"},
         lambda r: r["products"]["jira"]["status"] == "active"),
        (["deactivate", "acme", "--product", "wiki"],
         "deactivated acme product wiki",
         {"event": "deactivate", "product": "wiki"},
         lambda r: r["products"]["wiki"]["status"] == "deactivated"),
    ]
    refusals_after_deactivate = [
        (["unsuspend", "acme", "--product", "wiki"],
         "acme: product wiki is deactivated"),
        (["suspend", "acme", "--product", "wiki"],
         "acme: product wiki is deactivated"),
    ]
    steps2 = [
        (["licence", "acme", "--product", "wiki", "--seats", "25"],
         "licensed acme product wiki seats 25",
         {"event": "licence", "product": "wiki", "seats": 25},
         lambda r: r["products"]["wiki"] == {
             "status": "active", "shard": "eu-wiki-1", "seats": 25}),
        (["licence", "acme", "--product", "jira", "--seats=unlimited"],
         "licensed acme product jira seats unlimited",
         {"event": "licence", "product": "jira", "seats": None},
         lambda r: r["products"]["jira"]["seats"] is None),
    ]

    def write_step(args, line, event, changed, tenant="t-0001", site="acme"):
        before = record(db, tenant)["version"]
        rc, out, err = ctl(*args)
        after = record(db, tenant)
        check(rc == 0 and out == "%s (%s) version %d\n"
              % (line, tenant, before + 1),
              "%s: exit 0, one line (%d %r %r)"
              % (" ".join(args), rc, out, err))
        check(after["version"] == before + 1 and changed(after),
              "%s: version %d -> %d and the record changed"
              % (" ".join(args), before, after["version"]))
        want_ev = dict(event, tenant=tenant, site=site, version=before + 1)
        got = events.next()
        check(got == want_ev, "%s: published %r (got %r)"
              % (" ".join(args), want_ev, got))

    def refused(args, message, status=1):
        dbsize = db.command("DBSIZE")
        snapshot = {t: record(db, t) for t in ("t-0001", beta)}
        rc, out, err = ctl(*args)
        check(rc == status and out == "" and message in err,
              "%s: exit %d, says %r (%d %r)"
              % (" ".join(args), status, message, rc, err))
        check(db.command("DBSIZE") == dbsize and
              all(record(db, t) == r for t, r in snapshot.items()),
              "%s: nothing written" % " ".join(args))
        check(events.next(timeout=0.3) is None,
              "%s: nothing published" % " ".join(args))

    for s in steps:
        write_step(*s)
    for args, message in refusals_after_deactivate:
        refused(args, message)
    for s in steps2:
        write_step(*s)

    write_step(["destroy", "beta"], "destroyed beta", {"event": "destroy"},
               lambda r: r["status"] == "destroyed", tenant=beta, site="beta")
    check(db.command("GET", "tcs:site:beta") == beta,
          "a destroyed tenant keeps its site mapping")

    # refusals: exit 1, nothing written, nothing published
    refused(["suspend", "nosuch"], "tenantctl: no such site: nosuch\n")
    refused(["show", "nosuch"], "tenantctl: no such site: nosuch\n")
    refused(["create", "acme", "--region", "eu", "--product", "x:y"],
            "site already exists: acme")
    refused(["create", "gamma", "--id", "t-0001", "--region", "eu",
             "--product", "x:y"], "tenant id already in use: t-0001")
    refused(["suspend", "beta"], "beta is destroyed")
    refused(["destroy", "beta"], "beta is destroyed")
    refused(["suspend", "acme", "--product", "nope"],
            "acme has no product nope")

    # usage errors: exit 2 with the usage, before Redis is even asked
    for args in ([], ["bogus"], ["create", "delta"],
                 ["create", "delta", "--product", "jira:x"],
                 ["create", "delta", "--region", "eu"],
                 ["create", "Delta", "--region", "eu", "--product", "j:x"],
                 ["create", "delta", "--region", "eu", "--product", "j"],
                 ["create", "delta", "--region", "eu_1", "--product", "j:x"],
                 ["create", "delta", "--region", "eu", "--product", "j:x",
                  "--product", "j:y"],
                 ["create", "delta", "--id", "t 1", "--region", "eu",
                  "--product", "j:x"],
                 ["suspend"], ["suspend", "acme", "beta"],
                 ["suspend", "acme", "--bogus", "x"],
                 ["suspend", "acme", "--seats", "3"],
                 ["suspend", "acme", "--product"],
                 ["deactivate", "acme"],
                 ["licence", "acme", "--product", "jira"],
                 ["licence", "acme", "--product", "jira", "--seats", "-1"],
                 ["licence", "acme", "--product", "jira", "--seats", "3x"],
                 ["list", "acme"], ["show"]):
        refused(args, "usage: tenantctl", status=2)
    rc, _, err = tenantctl("-r", "nohostport", "list", addr=False)
    check(rc == 2 and "usage:" in err, "-r without a port: exit 2")
    rc, _, err = tenantctl("-x", "list", addr=False)
    check(rc == 2 and "usage:" in err, "an unknown global option: exit 2")

    # show and list
    rc, out, err = ctl("show", "acme")
    check(rc == 0 and json.loads(out) == record(db, "t-0001"),
          "show prints the stored record as JSON (%d %r)" % (rc, err))
    check(out.startswith("{\n  \"id\": \"t-0001\""), "show indents it")
    rc, out, _ = ctl("show", "beta")
    check(rc == 0 and json.loads(out)["status"] == "destroyed",
          "show finds a destroyed tenant through its site")
    rc, out, _ = ctl("list")
    check(rc == 0 and out ==
          "acme t-0001 active eu "
          "jira:eu-jira-1:active,wiki:eu-wiki-1:active\n"
          "beta %s destroyed us jira:us-jira-1:active\n" % beta,
          "list prints one sorted line per site (%r)" % out)

    # a record the edge could not read is refused, not rewritten
    db.command("SET", "tcs:tenant:t-0001", '{"id":"t-0001","site":"acme"}')
    rc, _, err = ctl("suspend", "acme")
    check(rc == 1 and "malformed record for acme" in err,
          "a write to a malformed record: exit 1 (%r)" % err)
    check(db.command("GET", "tcs:tenant:t-0001") ==
          '{"id":"t-0001","site":"acme"}', "and the record is left alone")
    rc, out, err = ctl("show", "acme")
    check(rc == 1 and "the edge would refuse" in err and "t-0001" in out,
          "show prints it and says the edge would refuse it")
    check(events.next(timeout=0.3) is None, "nothing published for those")

    concurrent_writes(db, events, addr)
    address_sources(db, events, server, tmpdir)
    events.conn.close()
    db.close()


def concurrent_writes(db, events, addr):
    """Many operators at once: no update lost, no version published twice.
    """
    n = 16
    rc, _, _ = tenantctl("create", "conc", "--id", "t-conc", "--region", "eu",
                         "--product", "jira:eu-jira-1", addr=addr)
    check(rc == 0, "created a site for concurrent writes")
    events.next()
    procs = [subprocess.Popen([TENANTCTL, "-r", addr, "licence", "conc",
                               "--product", "jira", "--seats", str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for i in range(n)]
    versions = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, "a concurrent licence succeeded (%r)" % err)
        versions.append(int(out.split()[-1]))
    got = [events.next() for _ in range(n)]
    check(all(e is not None and e["tenant"] == "t-conc" for e in got),
          "%d events for %d concurrent writes" % (n, n))
    check(sorted(versions) == list(range(2, n + 2)),
          "the writes got versions 2..%d, each once" % (n + 1))
    check(sorted(e["version"] for e in got) == list(range(2, n + 2)),
          "and published versions 2..%d, each once" % (n + 1))
    final = record(db, "t-conc")
    last = max(got, key=lambda e: e["version"])
    check(final["version"] == n + 1 and
          final["products"]["jira"]["seats"] == last["seats"],
          "the record holds the last write (version %d)" % (n + 1))


def address_sources(db, events, server, tmpdir):
    """-c reads the edge's config, -r overrides it, -n picks a database,
    and an unreachable Redis is a clear exit 1."""
    conf = os.path.join(tmpdir, "edge.conf")
    with open(conf, "w") as f:
        f.write("workers 2;\n"
                "listen 127.0.0.1:1;\n"
                "# redis 10.9.9.9:1;\n"
                "redis 127.0.0.1:%d { timeout 50ms; }\n"
                "tcs { store redis; }\n" % server.port)
    rc, out, err = tenantctl("-c", conf, "list", addr=False)
    check(rc == 0 and out.startswith("acme t-0001"),
          "-c takes the redis address (%d %r)" % (rc, err))

    dead = free_port()
    bad = os.path.join(tmpdir, "dead.conf")
    with open(bad, "w") as f:
        f.write("listen 127.0.0.1:1;\nredis 127.0.0.1:%d;\n"
                "tcs { store redis; }\n" % dead)
    rc, out, err = tenantctl("-c", bad, "-r", "127.0.0.1:%d" % server.port,
                             "show", "beta", addr=False)
    check(rc == 0 and "destroyed" in out, "-r overrides -c")

    rc, _, err = tenantctl("-c", bad, "list", addr=False)
    check(rc == 1 and "cannot connect to redis at 127.0.0.1:%d" % dead in err,
          "an unreachable Redis: exit 1 and says so (%r)" % err)
    nodir = os.path.join(tmpdir, "none.conf")
    rc, _, err = tenantctl("-c", nodir, "list", addr=False)
    check(rc == 1 and "%s:1:1: cannot read" % nodir in err,
          "a missing -c file: exit 1 (%r)" % err)

    rc, out, _ = tenantctl("-n", "3", "create", "other", "--id", "t-db3",
                           "--region", "eu", "--product", "jira:eu-jira-1",
                           addr="127.0.0.1:%d" % server.port)
    check(rc == 0, "-n 3 create")
    check(db.command("GET", "tcs:site:other") is None,
          "-n 3 wrote nothing to database 0")
    other = Resp(server.port)
    try:
        other.command("SELECT", "3")
        check(other.command("GET", "tcs:site:other") == "t-db3",
              "-n 3 wrote to database 3")
    finally:
        other.close()
    check(events.next()["tenant"] == "t-db3",
          "events are published whatever the database")


if __name__ == "__main__":
    main(test)
