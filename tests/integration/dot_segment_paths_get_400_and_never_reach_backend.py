"""A path with a dot segment, in any spelling (/wiki/../jira, encoded
dots, an encoded or backslash separator, "..;"), or with "%00", is
refused with 400 before any module or backend sees it: the edge routes
and licenses by the raw prefix, and an origin that normalises would
otherwise serve a product the tenant does not hold. An encoded slash
inside an ordinary segment still passes, as sent."""
from harness import Env, check, main
from chain_helpers import check_refusal, tenant, tenants_file

CONF = """
listen {listen};
domain edge.test;
region eu { shard eu-1 { backend {eu} zone z1; } }
tcs { store file; file {tenants}; }
product wiki /wiki/;
product jira /jira/;
"""

REFUSED = (
    "/wiki/../jira/secret",
    "/wiki/%2e%2e/jira/secret",
    "/wiki/%2E%2E%2Fjira/secret",
    "/wiki/./../jira/secret",
    "/wiki/.%2e/jira/secret",
    "/wiki%2F..%2Fjira/secret",
    "/wiki\\..\\jira/secret",
    "/wiki/%5c..%5Cjira/secret",
    "/wiki/..;/jira/secret",
    "/wiki/secret%00.html",
    "/wiki/.",
)


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        path = tenants_file(env, [tenant("acme", "t-acme", products={
            "wiki": ("active", "eu-1")})])
        edge = env.edge(CONF, eu=eu.addr, tenants=path)

        for p in REFUSED:
            r = edge.get(p, host="acme.edge.test")
            check_refusal(r, 400, "bad request", "GET %s" % p)
        out = edge.raw(b"GET http://acme.edge.test/wiki/../jira/secret "
                       b"HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 400 "),
              "the same in an absolute-form target: 400")
        check(eu.heads() == [], "none of them reached the backend")

        r = edge.get("/jira/secret", host="acme.edge.test")
        check_refusal(r, 403, "product not licensed", "GET /jira/secret")
        r = edge.get("/wiki/api/pages/a%2Fb..c?next=/../x",
                     host="acme.edge.test")
        check(r.status == 200 and
              r.json()["path"] == "/wiki/api/pages/a%2Fb..c?next=/../x",
              "an encoded slash in a segment and dots in the query pass "
              "as sent")


main(test)
