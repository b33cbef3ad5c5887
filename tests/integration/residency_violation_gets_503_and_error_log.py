"""A product whose shard lies outside the tenant's region, or in no
region of this edge, is refused with 503 "residency violation" and an
error line naming the request and tenant: the edge never forwards a
tenant's request out of its region.

The records come from Redis, where they can change at any time, so the
rule is enforced on every request (a tenants file breaking it is refused
at load: tenantedge_t_refuses_tenants_file_shard_outside_region.py)."""
import re
from harness import Env, check, main
from chain_helpers import Redis, check_refusal, tenant

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
region us { shard us-1 { backend {us} zone z1; } }
redis {redis} { timeout 300ms; connect_timeout 500ms; }
tcs { store redis; }
product jira /jira/;
product wiki /wiki/;
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-acme", region="eu", products={
            "jira": ("active", "us-1"),      # another region
            "wiki": ("active", "nowhere")}))  # no region here
        redis.put_tenant(tenant("globex", "t-globex", region="us",
                                shard="us-1",
                                products={"jira": ("active", "us-1")}))
        edge = env.edge(CONF, eu=eu.addr, us=us.addr, redis=redis.addr)

        r = edge.get("/jira/x", host="acme.edge.test")
        check_refusal(r, 503, "residency violation",
                      "an eu tenant's product on a us shard")
        rid = r.json()["request_id"]
        r = edge.get("/wiki/x", host="acme.edge.test")
        check_refusal(r, 503, "residency violation",
                      "a product on a shard in no region")
        check(eu.heads() == [] and us.heads() == [],
              "neither request reached any backend")

        r = edge.get("/jira/x", host="globex.edge.test")
        check(r.status == 200 and r.json()["region"] == "us",
              "a us tenant's product in us is served")

        out = env.stop_edge(edge)
        line = [l for l in out.splitlines() if "req=" + rid in l
                and "residency violation" in l]
        check(len(line) == 1 and " error " in line[0]
              and "tenant=t-acme" in line[0] and "us-1" in line[0],
              "one error line names the shard, the request and the tenant "
              "(%r)" % line)
        check(re.search(r"error residency violation: shard nowhere is in "
                        r"no region", out) is not None,
              "an unknown shard is logged as such")


main(test)
