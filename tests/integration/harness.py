"""Harness for tenantedge integration tests: the real daemon, real sockets,
the real test backend, all on loopback.

Every test is one script that proves one behaviour:

    from harness import Env, check
    with Env() as env:
        eu = env.backend("eu-1", zone="z1", region="eu")
        edge = env.edge('''
            listen {listen};
            domain edge.test;
            region eu {{ shard eu-1 {{ backend {eu} zone z1; }} }}
            site acme shard eu-1;
        ''', eu=eu.addr)
        r = edge.get("/", host="acme.edge.test")
        check(r.status == 200, "acme is served")

Env picks free ports, stops everything it started (also when the test
fails), and fails the test when the daemon does not exit 0 on SIGTERM or
prints a sanitizer report (so leaks count). Exit status: 0 pass, 1 fail.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import weakref

BUILDDIR = os.environ.get("TE_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SRCDIR = os.environ.get("TE_TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SANITIZERS = os.environ.get("TE_SANITIZERS") == "yes"
TENANTEDGE = os.path.join(BUILDDIR, "src", "tenantedge")
BACKEND = os.path.join(BUILDDIR, "tests", "shard-backend")

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


class TestFailure(Exception):
    pass


def check(cond, what):
    """Assert one user-visible fact; the message says what was expected."""
    if not cond:
        raise TestFailure(what)
    print("ok - %s" % what, flush=True)


def free_port():
    """A port that was free a moment ago (bind to 0 and read it back)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def pattern_sha256(n):
    """SHA-256 of the shard-backend's size=N body: byte i is
    (i * 7 + 13 + (i >> 16)) & 0xff (see its file comment), so 64 KiB
    block k is the base block rotated by k * 183 mod 256 (7 * 183 = 1
    mod 256)."""
    base = bytes(((j * 7 + 13) & 0xFF) for j in range(65536 + 256))
    h = hashlib.sha256()
    k = 0
    while n > 0:
        take = min(n, 65536)
        off = (k * 183) & 0xFF
        h.update(base[off:off + take])
        n -= take
        k += 1
    return h.hexdigest()


def rss_peak_kib(pid):
    """Peak resident set (VmHWM) of a live process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


class Response:
    def __init__(self, status, headers, body, closed):
        self.status = status
        self.headers = headers      # lowercased name -> last value
        self.body = body
        self.closed = closed

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:200])


_leftover = weakref.WeakKeyDictionary()


class _Reader:
    """Buffered reads on a socket; bytes read past one response stay for
    the next (pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = _leftover.pop(sock, b"")

    def fill(self, n=65536):
        chunk = self.sock.recv(n)
        self.buf += chunk
        return bool(chunk)

    def take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def keep(self):
        if self.buf:
            _leftover[self.sock] = self.buf


def read_response(sock, method="GET"):
    """Read one HTTP/1.1 response from sock (blocking, socket timeout
    applies), skipping 1xx heads. Returns Response; status 0 when the
    peer closed first."""
    rd = _Reader(sock)
    try:
        while True:
            while b"\r\n\r\n" not in rd.buf:
                if not rd.fill():
                    return Response(0, {}, rd.take(len(rd.buf)), True)
            head, _ = rd.buf.split(b"\r\n\r\n", 1)
            rd.take(len(head) + 4)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {}
            for line in lines[1:]:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
            if not 100 <= status < 200:
                return finish_body(rd, status, headers, method)
    finally:
        rd.keep()


def finish_body(rd, status, headers, method):
    if method == "HEAD" or status in (204, 304):
        return Response(status, headers, b"", False)
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rd.buf) < n:
            if not rd.fill(min(1 << 20, n - len(rd.buf))):
                return Response(status, headers, rd.take(n), True)
        return Response(status, headers, rd.take(n), False)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            while b"\r\n" not in rd.buf:
                if not rd.fill():
                    return Response(status, headers, out, True)
            line, _ = rd.buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            while len(rd.buf) < len(line) + 2 + size + 2:
                if not rd.fill():
                    return Response(status, headers, out, True)
            rd.take(len(line) + 2)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + rd.buf:
                    if not rd.fill():
                        return Response(status, headers, out, True)
                trailer_end = (b"\r\n" + rd.buf).index(b"\r\n\r\n")
                rd.take(trailer_end + 2)
                return Response(status, headers, out, False)
            out += rd.take(size)
            rd.take(2)
    while rd.fill():
        pass
    return Response(status, headers, rd.take(len(rd.buf)), True)


class Process:
    """A child process with its output in a file; stopped on cleanup."""

    def __init__(self, argv, logpath, env=None):
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def output(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig=signal.SIGTERM):
        """Send sig once; stop() then only waits for the exit."""
        self.signalled = True
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM (unless signal() already sent one), wait; returns the
        exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            if not getattr(self, "signalled", False):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                return None
        self.log.close()
        return self.proc.returncode


class Backend(Process):
    def __init__(self, env, shard, zone, region, args=()):
        self.shard = shard
        tag = "%s-%d" % (shard, len(env.procs))
        self.port_file = os.path.join(env.dir, tag + ".port")
        self.reqlog = os.path.join(env.dir, tag + ".requests")
        argv = [BACKEND, "--listen", "127.0.0.1:0", "--shard", shard,
                "--zone", zone, "--region", region,
                "--port-file", self.port_file, "--log", self.reqlog]
        argv += list(args)
        super().__init__(argv, os.path.join(env.dir, tag + ".out"))
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise TestFailure("shard-backend did not start: "
                                  + self.output())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.addr = "127.0.0.1:%d" % self.port

    def requests(self):
        """Every JSON line the backend logged, in order."""
        if not os.path.exists(self.reqlog):
            return []
        out = []
        with open(self.reqlog) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
        return out

    def heads(self):
        return [e for e in self.requests() if e.get("event") == "head"]


class Edge(Process):
    def __init__(self, env, conf_text, name):
        self.port = free_port()
        self.conf = os.path.join(env.dir, name + ".conf")
        with open(self.conf, "w") as f:
            f.write(conf_text.replace("{listen}",
                                      "127.0.0.1:%d" % self.port))
        super().__init__([TENANTEDGE, "-c", self.conf],
                         os.path.join(env.dir, name + ".log"))
        if not wait_port(self.port, self.proc):
            raise TestFailure("tenantedge did not start:\n" + self.output())

    def connect(self, timeout=10.0):
        return socket.create_connection(("127.0.0.1", self.port),
                                        timeout=timeout)

    def raw(self, data, timeout=10.0):
        """Send raw bytes on a new connection; read until close or
        timeout; returns the bytes received."""
        s = self.connect(timeout)
        out = b""
        try:
            s.sendall(data)
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            s.close()
        return out

    def request(self, method, path, host="acme.edge.test", headers=None,
                body=None, timeout=30.0):
        s = self.connect(timeout)
        try:
            send_request(s, method, path, host, headers, body)
            return read_response(s, method=method)
        finally:
            s.close()

    def get(self, path, host="acme.edge.test", headers=None, timeout=30.0):
        return self.request("GET", path, host, headers, None, timeout)


def send_request(sock, method, path, host, headers=None, body=None):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    if body is not None and not any(k.lower() in ("content-length",
                                                  "transfer-encoding")
                                    for k in (headers or {})):
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    sock.sendall(data + (body or b""))


class Env:
    """Owns a temp dir and every process a test starts."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="te-it-")
        self.procs = []
        self.edges = []

    def __enter__(self):
        return self

    def backend(self, shard, zone="z1", region="eu", args=()):
        """A shard-backend; args are extra options (--idle-timeout 1)."""
        b = Backend(self, shard, zone, region, args)
        self.procs.append(b)
        return b

    def edge(self, conf, name="edge", **subst):
        text = conf
        for k, v in subst.items():
            text = text.replace("{%s}" % k, str(v))
        e = Edge(self, text, name)
        self.procs.append(e)
        self.edges.append(e)
        return e

    def stop_edge(self, edge, timeout=30.0):
        """SIGTERM the daemon and judge how it went: exit 0, no sanitizer
        report. Returns its output."""
        rc = edge.stop(timeout)
        out = edge.output()
        if rc != 0:
            raise TestFailure("tenantedge exited %s on SIGTERM:\n%s"
                              % (rc, out[-4000:]))
        for mark in SANITIZER_MARKS:
            if mark in out:
                raise TestFailure("sanitizer report from tenantedge:\n"
                                  + out[-6000:])
        return out

    def __exit__(self, typ, val, tb):
        failed = typ is not None
        try:
            for e in self.edges:
                if e.proc.poll() is None or not e.log.closed:
                    try:
                        self.stop_edge(e)
                    except TestFailure as err:
                        if not failed:
                            raise
                        print("also: %s" % err, file=sys.stderr)
        finally:
            for p in self.procs:
                if p.proc.poll() is None:
                    p.proc.kill()
                    p.proc.wait()
            if failed or os.environ.get("TE_KEEP"):
                for e in self.edges:
                    print("--- %s (last lines)\n%s" % (e.logpath,
                                                     e.output()[-3000:]),
                          file=sys.stderr)
            if not os.environ.get("TE_KEEP"):
                shutil.rmtree(self.dir, ignore_errors=True)
        return False


def main(test):
    """Run test() and turn its outcome into an exit status."""
    try:
        test()
    except TestFailure as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print("PASS", flush=True)
    sys.exit(0)


CONFIG_TWO_REGIONS = """
workers 2;
listen {listen};
zone z1;
domain edge.test;
log_level info;
upstream_read_timeout 2s;
upstream_connect_timeout 1s;
region eu { shard eu-1 { backend {eu} zone z1; } }
region us { shard us-1 { backend {us} zone z1; } }
site acme shard eu-1;
site globex shard us-1;
"""


def two_regions(env, extra=""):
    """The issue's example: acme in eu-1, globex in us-1."""
    eu = env.backend("eu-1", zone="z1", region="eu")
    us = env.backend("us-1", zone="z1", region="us")
    edge = env.edge(CONFIG_TWO_REGIONS + extra, eu=eu.addr, us=us.addr)
    return edge, eu, us


def drain_in_flight(sig):
    """Send sig while a slow request is in flight: new connections are
    refused, the request completes with 200, the daemon exits 0 (judged by
    stop_edge) within the drain. Returns the daemon's log."""
    import threading

    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        edge = env.edge(CONFIG_TWO_REGIONS.replace(
            "upstream_read_timeout 2s;", "upstream_read_timeout 10s;")
            + "drain_timeout 8s;\n", eu=eu.addr, us=us.addr)
        result = {}

        def slow():
            result["r"] = edge.get("/?delay=2500", host="acme.edge.test")

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.8)
        edge.signal(sig)
        time.sleep(0.5)
        try:
            socket.create_connection(("127.0.0.1", edge.port),
                                     timeout=2).close()
            refused = False
        except OSError:
            refused = True
        check(refused, "new connections are refused while draining")
        t.join(20)
        r = result.get("r")
        check(r is not None and r.status == 200,
              "the request in flight completed with 200")
        t0 = time.monotonic()
        out = env.stop_edge(edge)  # fails the test unless exit 0
        check(time.monotonic() - t0 < 8, "the daemon exited after the drain")
        check("tenantedge stopped" in out, "and it stopped cleanly")
        return out
