"""When the tenant store cannot answer (Redis unreachable) and nothing
is cached, the tenant module refuses with 503, Retry-After: 5 and the
reason "tenant context unavailable": never a guess, never a backend."""
from harness import Env, check, main, free_port
from chain_helpers import check_refusal

CONF = """
listen {listen};
domain edge.test;
redis 127.0.0.1:{port} { timeout 200ms; connect_timeout 200ms; }
tcs { store redis; }
region eu { shard eu-1 { backend {eu} zone z1; } }
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF, eu=eu.addr, port=free_port())
        r = edge.get("/", host="acme.edge.test")
        check_refusal(r, 503, "tenant context unavailable",
                      "Redis down, acme not cached")
        check(r.headers.get("retry-after") == "5", "Retry-After: 5")
        check(eu.heads() == [], "nothing reached the backend")


main(test)
