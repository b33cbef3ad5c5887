"""Where the policy's rules say `auth required`, a request that no
identity module identified is refused with 401, the RFC 6750 challenge
`WWW-Authenticate: Bearer` and the reason "authentication required",
and never reaches the backend; the same request with a live session is
served."""
from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import SID, cookie, put_session, session_edge

POLICY = "module policy { auth required; }\n"


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, extra=POLICY)
        put_session(redis, SID)

        for path in ("/", "/wiki/x?y=1", "/health//admin"):
            r = edge.get(path, host="acme.edge.test")
            check_refusal(r, 401, "authentication required",
                          "GET %s without credentials" % path)
            check(r.headers.get("www-authenticate") == "Bearer",
                  "WWW-Authenticate: Bearer (%r)"
                  % r.headers.get("www-authenticate"))
        # dot segments never get this far: the core refuses them (400)
        r = edge.get("/health/../admin", host="acme.edge.test")
        check_refusal(r, 400, "bad request", "GET /health/../admin")
        check(eu.heads() == [], "nothing reached the backend")

        r = edge.get("/", host="acme.edge.test", headers=cookie(SID))
        check(r.status == 200, "with a live session it is served")


main(test)
