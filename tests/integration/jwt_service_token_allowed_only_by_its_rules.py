"""Service callers (tokens of a `service_issuer`) get only what an
`allow service` rule gives them: the methods and path prefixes of a rule
for their name are served; another method, another path, a path that
dot segments or encoded slashes would move elsewhere, or a service
without any rule gets 403 "service not allowed" and never reaches the
backend. User tokens are not subject to these rules."""
from harness import Env, check, main
from jwt_helpers import SVC_ISS, bearer, jwt_edge, mint, reached

RULES = """
    allow service billing { methods GET POST; paths /jira/rest/ /wiki/api/; }
    allow service billing { methods DELETE; paths /jira/rest/cache/; }
    allow service audit { methods GET; paths /jira/rest/audit/; }
"""


def ask(edge, tok, method, path):
    return edge.request(method, path, host="acme.edge.test",
                        headers=bearer(tok),
                        body=b"{}" if method == "POST" else None)


def test():
    with Env() as env:
        edge, eu = jwt_edge(env, jwt_extra=RULES)
        billing = mint(edge, "--iss", SVC_ISS, "--sub", "billing")
        stranger = mint(edge, "--iss", SVC_ISS, "--sub", "crawler")
        user = mint(edge, "--sub", "billing")

        for method, path in (("GET", "/jira/rest/issue/1"),
                             ("POST", "/jira/rest/issue"),
                             ("GET", "/wiki/api/page?x=1"),
                             ("DELETE", "/jira/rest/cache/all")):
            r = ask(edge, billing, method, path)
            check(r.status == 200, "billing %s %s: served (got %d)"
                  % (method, path, r.status))
            check(r.json()["headers"].get("x-principal-kind") == "service",
                  "billing %s %s: the backend sees a service" % (method,
                                                                  path))

        for tok, method, path, what in (
                (billing, "DELETE", "/jira/rest/issue/1", "another method"),
                (billing, "GET", "/jira/admin/denied-1", "another path"),
                (billing, "GET", "/jira/restricted/denied-2",
                 "a prefix of a segment is not the prefix"),
                (stranger, "GET", "/jira/rest/denied-6",
                 "a service without rules (deny by default)")):
            r = ask(edge, tok, method, path)
            check(r.status == 403 and
                  r.json()["error"] == "service not allowed",
                  "%s: 403 service not allowed (got %d)" % (what, r.status))

        # paths a backend could resolve elsewhere: the core's parser may
        # refuse them first (400); the rules never match them (403)
        for path, what in (("/jira/rest/../admin/denied-3", "dot segments"),
                           ("/jira/rest/%2e%2e/admin/denied-4",
                            "encoded dot segments"),
                           ("/jira/rest%2f..%2fadmin/denied-5",
                            "an encoded slash"),
                           ("/jira/rest//admin/denied-7", "an empty segment"),
                           ("/jira/rest/%252e%252e/denied-8",
                            "an encoded percent")):
            r = ask(edge, billing, "GET", path)
            check(r.status in (400, 403),
                  "%s: refused (got %d)" % (what, r.status))
        check(not any("denied" in e.get("path", "") or
                      e.get("method") == "DELETE" and "issue" in
                      e.get("path", "") for e in eu.heads()),
              "no refused service request reached the backend")

        r = ask(edge, user, "DELETE", "/jira/admin/x")
        check(r.status == 200 and
              r.json()["headers"].get("x-principal-kind") == "user",
              "a user token is not held to service rules")
        check(reached(eu, "/jira/admin/x"), "and reaches the backend")

        out = env.stop_edge(edge)
        check("service crawler not allowed this method and path" in out,
              "the refusal is logged with the service's name")


main(test)
