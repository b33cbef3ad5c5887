"""Internal fields a client sends (X-Tenant-*, X-Principal-* by default,
or the configured internal_headers) never reach the backend, whatever the
chain; the backend gets the edge's X-Tenant-Id, X-Tenant-Site and
X-Tenant-Region instead, once each."""
from harness import Env, check, main

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1 id t-0001;
"""

FORGED = {
    "X-Tenant-Id": "t-evil",
    "x-tenant-region": "us",
    "X-Tenant-Site": "globex",
    "X-Tenant-Anything": "1",
    "X-Principal-User": "root",
    "X-Secret": "s3",
    "X-Custom": "kept",
}


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF, eu=eu.addr)
        r = edge.get("/", host="acme.edge.test", headers=FORGED)
        check(r.status == 200, "request served")
        h = r.json()["headers"]
        check(h.get("x-tenant-id") == "t-0001",
              "X-Tenant-Id is the edge's, once (%r)" % h.get("x-tenant-id"))
        check(h.get("x-tenant-site") == "acme", "X-Tenant-Site is the site")
        check(h.get("x-tenant-region") == "eu",
              "X-Tenant-Region is the tenant's region")
        check("x-tenant-anything" not in h and "x-principal-user" not in h,
              "other X-Tenant-* and X-Principal-* fields are stripped")
        check(h.get("x-secret") == "s3" and h.get("x-custom") == "kept",
              "fields outside the default list pass")
        env.stop_edge(edge)

        # chain without the tenant module: nothing adds them, still none
        # of the client's pass; an operator's own list applies
        edge = env.edge(CONF + "internal_headers X-Secret X-Tenant-*;\n"
                        "chain tenant route;\n", name="edge2", eu=eu.addr)
        r = edge.get("/", host="acme.edge.test", headers=FORGED)
        h = r.json()["headers"]
        check(r.status == 200 and "x-secret" not in h,
              "a configured internal header is stripped")
        check(h.get("x-tenant-id") == "t-0001",
              "the client's X-Tenant-Id is still not passed on")
        check(h.get("x-principal-user") == "root",
              "the configured list replaces the default one")

        edge3 = env.edge(CONF + "internal_headers X-Secret;\n",
                         name="edge3", eu=eu.addr)
        r = edge3.get("/", host="acme.edge.test", headers=FORGED)
        h = r.json()["headers"]
        check(h.get("x-tenant-id") == "t-0001" and
              h.get("x-tenant-region") == "eu",
              "a field the edge sets replaces the client's even when the "
              "list leaves it out")


main(test)
