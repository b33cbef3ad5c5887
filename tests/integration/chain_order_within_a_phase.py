"""Handlers of one phase run in chain order, and phases run in their own
order whatever the chain says: two loadable modules a and b both refuse
/both/ in the policy phase; the one named first in `chain` answers, and
its answer names the tenant although it is listed before the tenant
module."""
from harness import Env, check, main
from chain_helpers import build_module, check_refusal

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1 id t-acme;
load_module {a};
load_module {b};
a_refuse /both/;
b_refuse /both/;
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        a = build_module(env, "a")
        b = build_module(env, "b")

        edge = env.edge(CONF + "chain a tenant b route;\n", name="ab",
                        eu=eu.addr, a=a, b=b)
        check_refusal(edge.get("/both/", host="acme.edge.test"), 403,
                      "a refuses t-acme", "chain a tenant b route")
        r = edge.get("/other", host="acme.edge.test")
        check(r.status == 200 and r.headers.get("x-a") == "hello t-acme"
              and r.headers.get("x-b") == "hello t-acme",
              "both modules' response handlers ran")
        env.stop_edge(edge)

        edge = env.edge(CONF + "chain b tenant a route;\n", name="ba",
                        eu=eu.addr, a=a, b=b)
        check_refusal(edge.get("/both/", host="acme.edge.test"), 403,
                      "b refuses t-acme", "chain b tenant a route")
        env.stop_edge(edge)

        edge = env.edge(CONF + "chain tenant a route;\n", name="a-only",
                        eu=eu.addr, a=a, b=b)
        check_refusal(edge.get("/both/", host="acme.edge.test"), 403,
                      "a refuses t-acme", "chain tenant a route")
        r = edge.get("/other", host="acme.edge.test")
        check("x-b" not in r.headers, "b, loaded but not chained, never ran")
        check(len(eu.heads()) == 2, "only the two /other requests were "
              "forwarded")


main(test)
