"""`scope PRODUCT SCOPE...` makes a product need scopes: a token holding
them all is served; one missing any gets 403 with
`WWW-Authenticate: Bearer error="insufficient_scope"` naming the scopes
needed (RFC 6750 3.1) and never reaches the backend; a product without a
scope rule needs none."""
from chain_helpers import tenant, tenants_file
from harness import Env, check, main
from jwt_helpers import bearer, jwt_edge, mint, reached

EXTRA = """
product jira /jira/;
product wiki /wiki/;
"""


def test():
    with Env() as env:
        path = tenants_file(env, [tenant(
            "acme", "t-0001", products={"jira": ("active", "eu-1"),
                                        "wiki": ("active", "eu-1")})])
        edge, eu = jwt_edge(env, extra=EXTRA,
                            sites="tcs { store file; file %s; }" % path,
                            jwt_extra="scope jira jira:read jira:write;")
        both = mint(edge, "--claim", "scope=openid jira:write jira:read")
        one = mint(edge, "--claim", "scope=jira:read")
        none = mint(edge)

        r = edge.get("/jira/ok", host="acme.edge.test", headers=bearer(both))
        check(r.status == 200, "both scopes: served (got %d %r)"
              % (r.status, r.body[:100]))
        for tok, what in ((one, "one of two scopes"), (none, "no scope")):
            r = edge.get("/jira/scoped-out", host="acme.edge.test",
                         headers=bearer(tok))
            check(r.status == 403 and
                  r.json()["error"] == "insufficient scope",
                  "%s: 403 insufficient scope (got %d %r)"
                  % (what, r.status, r.body[:100]))
            check(r.headers.get("www-authenticate") ==
                  'Bearer error="insufficient_scope", '
                  'scope="jira:read jira:write"',
                  "%s: the challenge names the scopes needed" % what)
        check(not reached(eu, "scoped-out"),
              "refused requests never reach the backend")
        r = edge.get("/wiki/free", host="acme.edge.test",
                     headers=bearer(none))
        check(r.status == 200, "a product without a scope rule needs none")
        out = env.stop_edge(edge)
        check("lacks scope jira:write for product jira" in out,
              "the log names the missing scope")


main(test)
