"""A module that `chain` leaves out never runs: with the default chain
(tenant policy route) a suspended tenant gets 403; with `chain tenant
route;` the policy module is out, and the same request is served."""
from harness import Env, check, main
from chain_helpers import check_refusal, tenant, tenants_file

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
tcs { store file; file {tenants}; }
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        path = tenants_file(env, [
            tenant("acme", "t-acme", status="suspended")])

        edge = env.edge(CONF, eu=eu.addr, tenants=path)
        r = edge.get("/", host="acme.edge.test")
        check_refusal(r, 403, "tenant suspended", "default chain")
        check(eu.heads() == [], "the backend saw nothing")
        env.stop_edge(edge)

        edge = env.edge(CONF + "chain tenant route;\n", name="no-policy",
                        eu=eu.addr, tenants=path)
        r = edge.get("/", host="acme.edge.test")
        check(r.status == 200 and r.json()["shard"] == "eu-1",
              "without policy in the chain the suspended tenant is served")
        check(r.json()["headers"].get("x-tenant-id") == "t-acme",
              "the tenant module still ran")


main(test)
