"""A client that goes away while its request waits for the tenant
lookup (a Redis that does not answer: SIGSTOPped) ends that request
there: its cleanup withdraws the wait, the late Redis reply resumes
nothing, the worker goes on serving, and the daemon exits 0 on SIGTERM
with no sanitizer report (leaks count)."""
import os
import signal
import time
from harness import Env, check, main, send_request
from chain_helpers import Redis, tenant

CONF = """
workers 1;
listen {listen};
domain edge.test;
redis {redis} { timeout 10s; }
tcs { store redis; }
region eu { shard eu-1 { backend {eu} zone z1; } }
"""


def wait_log(edge, text, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in edge.output():
            return True
        time.sleep(0.05)
    return False


def test():
    with Env() as env:
        redis = Redis(env)
        eu = env.backend("eu-1", region="eu")
        redis.put_tenant(tenant("acme", "t-acme"))
        redis.put_tenant(tenant("late", "t-late"))
        edge = env.edge(CONF, eu=eu.addr, redis=redis.addr)

        # Redis answers: the lookup goes through (and the edge is up)
        deadline = time.monotonic() + 10
        while True:
            r = edge.get("/", host="acme.edge.test")
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check(r.status == 200, "acme served while Redis answers")

        os.kill(redis.pid, signal.SIGSTOP)
        try:
            s = edge.connect()
            send_request(s, "GET", "/", "late.edge.test")
            time.sleep(0.5)
            s.close()
            check(wait_log(edge, "client closed while the request waited"),
                  "the edge saw the client leave while suspended")
        finally:
            os.kill(redis.pid, signal.SIGCONT)

        # the late reply completes the fetch for nobody; then the
        # worker still serves, the site now from the cache
        time.sleep(0.5)
        r = edge.get("/", host="late.edge.test")
        check(r.status == 200 and
              r.json()["headers"].get("x-tenant-id") == "t-late",
              "the worker goes on serving after the abandoned lookup")
        check(len(eu.heads()) == 2,
              "the abandoned request never reached the backend")

        out = env.stop_edge(edge)
        line = [l for l in out.splitlines() if "while the request waited"
                in l]
        check(len(line) == 1 and "req=" in line[0],
              "one line, with the request id (%r)" % line)
        check(" 499 " in out, "the access line says 499")


main(test)
