"""Helpers for the module chain's integration tests: tenant records for
the file store, out-of-tree test modules, a private redis-server, and
checks of the house JSON refusal."""

import json
import os
import shutil
import socket
import subprocess
import time

from harness import SRCDIR, Process, TestFailure, check, free_port

HELLO = os.path.join(SRCDIR, "tests", "out-of-tree", "hello.c")


def tenant(site, tid, region="eu", status="active", shard="eu-1",
           products=None):
    """One record as tenantctl writes it (DESIGN.md). products maps a
    name to (status, shard)."""
    return {
        "id": tid, "site": site, "status": status, "region": region,
        "shard": shard, "version": 1, "features": [],
        "products": {name: {"status": st, "shard": sh, "seats": None}
                     for name, (st, sh) in (products or {}).items()},
    }


def tenants_file(env, records, name="tenants.json"):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        json.dump({"tenants": records}, f)
    return path


def build_module(env, name, *defines):
    """tests/out-of-tree/hello.c built as NAME.so against the source
    tree's headers; returns its path."""
    out = os.path.join(env.dir, name + ".so")
    argv = (["cc", "-shared", "-fPIC", "-Wall", "-Werror",
             "-I" + os.path.join(SRCDIR, "include"),
             "-DHELLO_NAME=\"%s\"" % name] + list(defines)
            + ["-o", out, HELLO])
    p = subprocess.run(argv, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise TestFailure("cannot build %s: %s" % (name, p.stderr.decode()))
    return out


def check_refusal(r, status, reason, what):
    """r is the edge's own refusal: status, JSON {"error", "request_id"}
    with the id the response carries."""
    check(r.status == status, "%s: %d (got %d %r)"
          % (what, status, r.status, r.body[:200]))
    check(r.headers.get("content-type", "").startswith("application/json"),
          "%s: the body is JSON" % what)
    body = r.json()
    check(body.get("error") == reason, "%s: error is %r (got %r)"
          % (what, reason, body.get("error")))
    check(body.get("request_id") and
          body.get("request_id") == r.headers.get("x-request-id"),
          "%s: the body names the request id" % what)


class Redis(Process):
    """A redis-server of our own on a free loopback port, no persistence;
    with password, it requires AUTH (--requirepass)."""

    def __init__(self, env, password=None):
        exe = shutil.which("redis-server")
        if exe is None:
            raise TestFailure("redis-server not found: apt-get install "
                              "redis-server")
        self.password = password
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        argv = [exe, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", env.dir]
        if password is not None:
            argv += ["--requirepass", password]
        super().__init__(argv, os.path.join(env.dir,
                                            "redis-%d.log" % self.port))
        env.procs.append(self)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if self.command("PING") == "+PONG":
                    return
            except OSError:
                time.sleep(0.05)
        raise TestFailure("redis-server did not start: " + self.output())

    def _call(self, args, db):
        """Sends AUTH (with a password), SELECT (db other than 0) and the
        command on one connection; returns the command's raw reply."""
        cmds = []
        if self.password is not None:
            cmds.append(("AUTH", self.password))
        if db:
            cmds.append(("SELECT", str(db)))
        cmds.append(args)
        out = b""
        for cmd in cmds:
            out += b"*%d\r\n" % len(cmd)
            for a in cmd:
                a = a.encode() if isinstance(a, str) else a
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            s.sendall(out)
            buf = b""
            # the prelude's replies are one line each; then the command's
            # first line, and a bulk string's bytes after it
            while True:
                lines = buf.split(b"\r\n")
                if len(lines) > len(cmds):
                    first = lines[len(cmds) - 1]
                    if not first.startswith(b"$") or first == b"$-1" or \
                            len(lines) > len(cmds) + 1:
                        return lines[len(cmds) - 1:]
                chunk = s.recv(65536)
                if not chunk:
                    return buf.split(b"\r\n")[len(cmds) - 1:]
                buf += chunk
        finally:
            s.close()

    def command(self, *args, db=0):
        """One command in RESP; returns the first reply line."""
        return self._call(args, db)[0].decode()

    def get(self, key, db=0):
        """GET key: the value as a string, or None."""
        lines = self._call(("GET", key), db)
        if lines[0] == b"$-1":
            return None
        return lines[1].decode()

    def put_tenant(self, record, prefix="tcs:", db=0):
        self.command("SET", prefix + "site:" + record["site"], record["id"],
                     db=db)
        self.command("SET", prefix + "tenant:" + record["id"],
                     json.dumps(record), db=db)
