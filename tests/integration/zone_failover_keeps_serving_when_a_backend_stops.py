"""Zone awareness with passive health: this edge's zone (z1) serves while
it can, round-robin over its backends; a z1 backend that stops is marked
down and the other z1 backend takes all requests; with both stopped, z2
serves; no request fails at any point. A stopped backend started again
is probed after its down period and serves again."""
import os
import threading
import time
from harness import Env, Process, check, main, BACKEND, TestFailure

CONF = """
workers 2;
listen {listen};
zone z1;
domain edge.test;
log_level info;
upstream_connect_timeout 2s;
upstream_read_timeout 10s;
upstream_fail_timeout 1s;
region eu { shard eu-1 {
    backend {a} zone z1;
    backend {c} zone z2;
    backend {b} zone z1;
} }
site acme shard eu-1;
"""


def served(edge, n, what):
    """n sequential GETs; each must be 200. Returns the zones that
    answered."""
    zones = []
    for i in range(n):
        r = edge.get("/?i=%d" % i)
        if r.status != 200:
            raise TestFailure("%s: request %d got %s" % (what, i, r))
        zones.append(r.json()["zone"])
    return zones


class Traffic:
    """GETs one after another on a thread until stopped; keeps every
    status, so a failure while a backend stops is seen."""

    def __init__(self, edge):
        self.edge = edge
        self.statuses = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        deadline = time.monotonic() + 60
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            try:
                self.statuses.append(self.edge.get("/?bg=1").status)
            except OSError as e:
                self.statuses.append(repr(e))
            time.sleep(0.005)

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)
        return self.statuses


def stop_backend(b):
    check(b.stop() == 0, "backend %s stopped cleanly" % b.addr)


def restart_backend(env, old):
    """A new shard-backend on the stopped one's port, zone z1."""
    port_file = os.path.join(env.dir, "restarted.port")
    p = Process([BACKEND, "--listen", old.addr, "--shard", "eu-1",
                 "--zone", "z1", "--region", "eu", "--port-file", port_file],
                os.path.join(env.dir, "restarted.out"))
    env.procs.append(p)
    deadline = time.monotonic() + 20
    while not os.path.exists(port_file):
        if p.proc.poll() is not None or time.monotonic() > deadline:
            raise TestFailure("backend did not restart: " + p.output())
        time.sleep(0.02)
    return p


def test():
    with Env() as env:
        a = env.backend("eu-1", zone="z1")
        c = env.backend("eu-1", zone="z2")
        b = env.backend("eu-1", zone="z1")
        edge = env.edge(CONF, a=a.addr, b=b.addr, c=c.addr)

        zones = served(edge, 20, "all healthy")
        check(set(zones) == {"z1"}, "while z1 is healthy only z1 answers")
        check(len(a.heads()) > 0 and len(b.heads()) > 0,
              "both z1 backends take turns (%d and %d requests)"
              % (len(a.heads()), len(b.heads())))
        check(len(c.heads()) == 0, "the z2 backend saw no request")

        # Requests in flight on the backend that stops are cut before
        # their answer: GETs, so they are sent again, to the other one.
        slow = []

        def slow_get():
            slow.append(edge.get("/?delay=1500").status)

        threads = [threading.Thread(target=slow_get) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            at_a = [h for h in a.heads() if "delay" in h["path"]]
            at_b = [h for h in b.heads() if "delay" in h["path"]]
            if len(at_a) + len(at_b) >= 6:
                break
            time.sleep(0.05)
        bg = Traffic(edge)
        stop_backend(a)
        for t in threads:
            t.join(30)
        check(len(at_a) > 0 and slow == [200] * 6,
              "%d GETs in flight on the stopped backend were sent again "
              "and answered" % len(at_a))
        time.sleep(0.5)
        before = len(b.heads())
        zones = served(edge, 20, "one z1 backend stopped")
        check(set(zones) == {"z1"} and len(b.heads()) - before >= 20,
              "with one z1 backend stopped, the other z1 serves all")
        check(len(c.heads()) == 0, "z2 is still not used")

        stop_backend(b)
        time.sleep(0.5)
        zones = served(edge, 20, "both z1 backends stopped")
        check(set(zones) == {"z2"}, "with both z1 backends stopped, z2 serves")

        statuses = bg.stop()
        check(len(statuses) > 10 and all(s == 200 for s in statuses),
              "%d requests sent while backends stopped all got 200"
              % len(statuses))

        # Each worker keeps its own view: z1 is preferred again once
        # every worker has probed the restarted backend.
        restart_backend(env, a)
        deadline = time.monotonic() + 40
        in_a_row = 0
        while time.monotonic() < deadline and in_a_row < 10:
            zone = served(edge, 1, "z1 backend restarted")[0]
            in_a_row = in_a_row + 1 if zone == "z1" else 0
            if zone != "z1":
                time.sleep(0.1)
        check(in_a_row >= 10,
              "the restarted z1 backend is probed, then z1 is preferred "
              "again")

        out = env.stop_edge(edge)
        down = [l for l in out.splitlines() if "backend down," in l]
        check(any("backend=%s shard=eu-1 zone=z1" % a.addr in l
                  for l in down) and
              any("backend=%s shard=eu-1 zone=z1" % b.addr in l
                  for l in down),
              "each stopped backend was logged down, with shard and zone")
        check(len(down) <= 4, "one down line per backend and worker, "
              "not one per request (%d)" % len(down))
        check(any("backend up," in l and a.addr in l
                  for l in out.splitlines()),
              "the restarted backend was logged up")


main(test)
