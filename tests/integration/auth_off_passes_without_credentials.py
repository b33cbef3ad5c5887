"""`auth off` lets requests through without a caller: for a product
(`auth off wiki;` with `product wiki /wiki/;`) or a path prefix under a
default of required, the longest prefix winning; and with no auth
directive at all nothing is required, as before the rules existed."""
from harness import Env, check, main
from chain_helpers import check_refusal, tenant
from session_helpers import session_edge

POLICY = """
product jira /jira/;
product wiki /wiki/;
module policy {
    auth required;
    auth off wiki;
    auth off /jira/public/;
    auth required /jira/public/secret/;
}
"""


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, extra=POLICY)
        redis.put_tenant(tenant("acme", "t-0001", products={
            "jira": ("active", "eu-1"), "wiki": ("active", "eu-1")}))
        for path in ("/wiki/", "/wiki/page?x=1", "/jira/public/",
                     "/jira/public/x"):
            r = edge.get(path, host="acme.edge.test")
            check(r.status == 200, "GET %s is served without credentials "
                  "(got %d)" % (path, r.status))
        for path in ("/jira/browse", "/jira/public/secret/x"):
            r = edge.get(path, host="acme.edge.test")
            check_refusal(r, 401, "authentication required",
                          "GET %s without credentials" % path)
        env.stop_edge(edge)

        from session_helpers import CONF
        edge = env.edge(CONF, name="edge2", eu=eu.addr, redis=redis.addr,
                        workers=1)
        r = edge.get("/anything", host="acme.edge.test")
        check(r.status == 200, "without auth directives nothing is "
              "required (got %d)" % r.status)


main(test)
