"""With `underscores_in_headers on`, a client field named with '_'
passes, except where, read with '-' for '_', it is a field the edge
strips: internal headers (X_Tenant_Id), X-Forwarded-* and the other
first-hop fields, hop-by-hop and framing fields (Transfer_Encoding),
and fields named in Connection. The backend never sees two spellings of
a field the edge owns."""
from harness import Env, check, main

CONF = """
listen {listen};
domain edge.test;
underscores_in_headers on;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1 id t-0001;
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF, eu=eu.addr)
        r = edge.get("/", host="acme.edge.test", headers={
            "X_Tenant_Id": "t-0002",
            "x_tenant_region": "us",
            "X_Principal_User": "root",
            "X_Forwarded_For": "6.6.6.6",
            "X_Forwarded_Port": "443",
            "X_Real_IP": "6.6.6.6",
            "X_Original_URL": "/admin",
            "X_Request_Id": "forged",
            "Transfer_Encoding": "chunked",
            "Content_Length": "5",
            "Keep_Alive": "timeout=5",
            "Connection": "x_hop",
            "X-Hop": "1",
            "X_Custom": "passes",
        })
        check(r.status == 200, "the request is served")
        h = r.json()["headers"]
        check(h.get("x_custom") == "passes",
              "an ordinary field named with '_' passes")
        stripped = [n for n in h if "_" in n and n != "x_custom"]
        check(stripped == [], "every underscored stand-in for a stripped "
              "field was dropped (left: %s)" % stripped)
        check("x-hop" not in h, "a field named in Connection (as x_hop) "
              "is hop-by-hop")
        check(h.get("x-tenant-id") == "t-0001" and
              h.get("x-tenant-region") == "eu",
              "the edge's tenant fields are the only ones")
        check(h.get("x-forwarded-for") == "127.0.0.1" and
              h.get("x-request-id") != "forged",
              "first-hop fields are the edge's")


main(test)
