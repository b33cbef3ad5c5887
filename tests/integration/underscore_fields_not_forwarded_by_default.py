"""With the default `underscores_in_headers off`, no client field whose
name holds '_' reaches the backend: X_Tenant_Id, X_Forwarded_For or
Transfer_Encoding cannot pose, at a CGI, WSGI, PHP or Rack backend that
reads '_' and '-' alike (HTTP_X_TENANT_ID), as the fields the edge strips
and sets. The request is still served, the rest of its fields pass, and
the drop is logged at debug only, once per request."""
from harness import Env, check, main

CONF = """
listen {listen};
domain edge.test;
log_level %s;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1 id t-0001;
"""

FORGED = {
    "X_Tenant_Id": "t-0002",
    "X_Forwarded_For": "6.6.6.6",
    "Transfer_Encoding": "chunked",
    "X_Principal_User": "root",
    "X_Custom": "under",
    "X-Custom": "kept",
}


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF % "info", eu=eu.addr)
        r = edge.get("/", host="acme.edge.test", headers=FORGED)
        check(r.status == 200, "the request is served")
        h = r.json()["headers"]
        check(not any("_" in name for name in h),
              "no field with '_' in its name reached the backend (%s)"
              % sorted(h))
        check(h.get("x-tenant-id") == "t-0001",
              "the backend sees the edge's tenant id only")
        check(h.get("x-forwarded-for") == "127.0.0.1",
              "X-Forwarded-For is the client address only")
        check("transfer-encoding" not in h and "x-principal-user" not in h,
              "no framing or principal field came from the client")
        check(h.get("x-custom") == "kept", "the dash-named field passes")
        out = env.stop_edge(edge)
        check("underscores_in_headers" not in out,
              "nothing about it is logged at info")

        edge = env.edge(CONF % "debug", name="edge-debug", eu=eu.addr)
        edge.get("/", host="acme.edge.test", headers=FORGED)
        out = env.stop_edge(edge)
        lines = [l for l in out.splitlines()
                 if "underscores_in_headers off" in l]
        check(len(lines) == 1 and "req=" in lines[0],
              "at debug, one line for the request names the drop (%r)"
              % lines)


main(test)
