"""A pooled backend connection that the backend closed while it was idle
is dropped from the pool and never gets a request: the next request, of
any method, goes out once on a fresh connection and is answered."""
import time

from harness import Env, check, main

CONFIG = """
workers 1;
listen {listen};
zone z1;
domain edge.test;
upstream_keepalive 8;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1;
"""

# (method, body): resendable or not, with a body or without
CASES = [("GET", None), ("POST", b"x" * 1000), ("POST", None)]


def test():
    with Env() as env:
        eu = env.backend("eu-1", args=["--idle-timeout", "1"])
        edge = env.edge(CONFIG, eu=eu.addr)

        for method, body in CASES:
            first = edge.request(method, "/first", body=body)
            check(first.status == 200, "%s is answered" % method)

            # the backend closes the idle connection after 1 s
            time.sleep(1.6)
            before = len(eu.heads())
            again = edge.request(method, "/again", body=body)
            check(again.status == 200,
                  "%s after the backend closed its idle connection is "
                  "answered (%s)" % (method, again.status))
            check(again.json()["conn"] != first.json()["conn"],
                  "it went out on a fresh backend connection")
            check(len(eu.heads()) == before + 1,
                  "the backend saw it exactly once")


main(test)
