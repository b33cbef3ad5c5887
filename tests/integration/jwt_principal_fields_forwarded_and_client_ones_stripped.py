"""The backend learns who calls from the edge only: a verified token's
subject, kind and scopes arrive in the configured principal fields, once
each, and whatever the client sent in those fields (forged identities)
never passes, with a token or without, under the default names or
names the operator chose outside the internal_headers list."""
from harness import Env, check, main
from jwt_helpers import SVC_ISS, bearer, jwt_edge, mint

FORGED = {"X-Principal-User": "root", "X-Principal-Kind": "service",
          "X-Principal-Scopes": "admin", "X-User": "root",
          "X-Caller-Kind": "service", "X-Scopes": "admin"}


def headers_seen(edge, tok=None):
    h = dict(FORGED)
    if tok is not None:
        h.update(bearer(tok))
    r = edge.get("/jira/p", host="acme.edge.test", headers=h)
    check(r.status == 200, "served (got %d %r)" % (r.status, r.body[:100]))
    return r.json()["headers"]


def test():
    with Env() as env:
        edge, eu = jwt_edge(env, jwt_extra="allow service billing "
                            "{ methods GET; paths /jira/; }")
        tok = mint(edge, "--sub", "alice@example.test", "--claim",
                   "scope=jira:read jira:write")
        h = headers_seen(edge, tok)
        check(h.get("x-principal-user") == "alice@example.test",
              "X-Principal-User is the token's subject (%r)"
              % h.get("x-principal-user"))
        check(h.get("x-principal-kind") == "user", "X-Principal-Kind user")
        check(h.get("x-principal-scopes") == "jira:read jira:write",
              "X-Principal-Scopes are the token's scopes")
        check(h.get("x-user") == "root",
              "fields outside the configured names pass as sent")

        h = headers_seen(edge, mint(edge, "--iss", SVC_ISS, "--sub",
                                    "billing"))
        check(h.get("x-principal-kind") == "service" and
              h.get("x-principal-user") == "billing" and
              "x-principal-scopes" not in h,
              "a service token: kind service, no scopes field")

        h = headers_seen(edge)
        check(not any(k.startswith("x-principal-") for k in h),
              "no token: none of the forged principal fields pass")
        env.stop_edge(edge)

        # names of the operator's own, not covered by internal_headers
        edge, eu = jwt_edge(env, name="edge2", jwt_extra="""
            principal_headers { user X-User; kind X-Caller-Kind;
                                scopes X-Scopes; }""")
        tok = mint(edge, "--sub", "bob", "--claim", "scope=read")
        h = headers_seen(edge, tok)
        check(h.get("x-user") == "bob" and
              h.get("x-caller-kind") == "user" and
              h.get("x-scopes") == "read",
              "the configured names carry the principal (%r)" % h)
        h = headers_seen(edge)
        check(not any(k in h for k in ("x-user", "x-caller-kind",
                                        "x-scopes")),
              "without a token the client's fields of those names are "
              "dropped")
        r = edge.get("/jira/p", host="acme.edge.test",
                     headers=dict(bearer(tok), **{"X-User": "root",
                                                  "x-user": "root2"}))
        check(r.status == 200 and r.json()["headers"].get("x-user") == "bob",
              "one X-User, the edge's, whatever the client repeats")


main(test)
