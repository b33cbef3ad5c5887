"""A shard whose backend cannot be reached answers 502, quickly, and the
proxy keeps serving other sites."""
import time
from harness import Env, check, main, free_port


CONF = """
listen {listen};
domain edge.test;
upstream_connect_timeout 2s;
region eu { shard eu-1 { backend 127.0.0.1:{dead} zone z1; } }
region us { shard us-1 { backend {us} zone z1; } }
site acme shard eu-1;
site globex shard us-1;
"""


def test():
    with Env() as env:
        us = env.backend("us-1", region="us")
        edge = env.edge(CONF, dead=free_port(), us=us.addr)
        t0 = time.monotonic()
        r = edge.get("/", host="acme.edge.test")
        check(r.status == 502, "unreachable backend gives 502")
        check(time.monotonic() - t0 < 5, "the 502 came without waiting")
        check(r.json().get("request_id"), "the 502 body names the request")
        r = edge.get("/", host="globex.edge.test")
        check(r.status == 200, "other sites are still served")


main(test)
