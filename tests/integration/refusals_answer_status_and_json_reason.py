"""Each refusal of the tenant, policy and route modules has its status
and a JSON body naming the reason and the request id, and never reaches
a backend: unknown site 404, tenant suspended or deactivated 403, tenant
destroyed 404, product not licensed, suspended or deactivated 403, a
path under no product 404."""
from harness import Env, check, main
from chain_helpers import check_refusal, tenant, tenants_file

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
tcs { store file; file {tenants}; }
product jira /jira/;
product wiki /wiki/;
product bamboo /bamboo/;
product crowd /crowd/;
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        jira = {"jira": ("active", "eu-1")}
        path = tenants_file(env, [
            tenant("acme", "t-acme", products={
                "jira": ("active", "eu-1"),
                "wiki": ("suspended", "eu-1"),
                "bamboo": ("deactivated", "eu-1")}),
            tenant("susp", "t-susp", status="suspended", products=jira),
            tenant("deact", "t-deact", status="deactivated", products=jira),
            tenant("gone", "t-gone", status="destroyed", products=jira),
        ])
        edge = env.edge(CONF, eu=eu.addr, tenants=path)

        cases = [
            ("nobody", "/jira/", 404, "unknown site"),
            ("a.acme", "/jira/", 404, "unknown site"),
            ("susp", "/jira/", 403, "tenant suspended"),
            ("deact", "/jira/", 403, "tenant deactivated"),
            ("gone", "/jira/", 404, "tenant destroyed"),
            ("acme", "/crowd/x", 403, "product not licensed"),
            ("acme", "/wiki/x", 403, "product suspended"),
            ("acme", "/bamboo/x", 403, "product deactivated"),
            ("acme", "/elsewhere", 404, "no product"),
        ]
        for site, path, status, reason in cases:
            r = edge.get(path, host=site + ".edge.test")
            check_refusal(r, status, reason, "%s %s" % (site, path))
        check(eu.heads() == [], "no refused request reached the backend")

        r = edge.get("/jira/x", host="acme.edge.test")
        check(r.status == 200 and r.json()["shard"] == "eu-1",
              "a licensed, active product is served by its shard")

        # a refused request with a body: answered, then the connection
        # closes (the body was never read)
        r = edge.request("POST", "/crowd/", host="acme.edge.test",
                         body=b"x" * 100000)
        check_refusal(r, 403, "product not licensed", "POST with a body")
        check(r.headers.get("connection") == "close",
              "the connection closes after refusing a request with a body")

        # a refusal keeps the connection for the next request
        s = edge.connect()
        from harness import read_response
        s.sendall(b"GET /crowd/ HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n"
                  b"GET /jira/y HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n")
        r1 = read_response(s)
        r2 = read_response(s)
        s.close()
        check(r1.status == 403 and not r1.closed and r2.status == 200,
              "after a refusal, a pipelined request on the same connection "
              "is served")


main(test)
