"""With login_url set, a browser navigation (GET, Accept naming
text/html) without a live session behind its cookie is sent to the login
page with 302; an API call or a POST gets 401; the login page itself is
reachable with a stale cookie, so a browser is never sent round in
circles."""
from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import cookie, session_edge

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
STALE = "s-stale-0123456789abcdef"


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env)
        headers = dict(cookie(STALE), Accept=HTML)

        r = edge.get("/wiki/page?x=1", host="acme.edge.test",
                     headers=headers)
        check(r.status == 302, "a browser GET is redirected (got %d)"
              % r.status)
        check(r.headers.get("location") == "/login",
              "to the login page (%r)" % r.headers.get("location"))

        r = edge.get("/api/x", host="acme.edge.test", headers=dict(
            cookie(STALE), Accept="application/json"))
        check_refusal(r, 401, "invalid session", "an API call")
        r = edge.request("POST", "/form", host="acme.edge.test",
                         headers=headers, body=b"a=1")
        check_refusal(r, 401, "invalid session", "a POST from a browser")

        r = edge.get("/login", host="acme.edge.test", headers=headers)
        check(r.status == 200, "the login page is served with a stale "
              "cookie (got %d)" % r.status)
        r = edge.get("/login?next=/wiki", host="acme.edge.test",
                     headers=headers)
        check(r.status == 200, "with a query too")
        check("x-principal-user" not in r.json()["headers"],
              "without a principal")
        check(len(eu.heads()) == 2, "only the login pages reached the "
              "backend")
        env.stop_edge(edge)

        edge = env.edge(_without_login(), name="edge2", eu=eu.addr,
                        redis=redis.addr, workers=1)
        r = edge.get("/wiki/page", host="acme.edge.test", headers=headers)
        check_refusal(r, 401, "invalid session",
                      "a browser GET without login_url")


def _without_login():
    from session_helpers import CONF
    return CONF.replace(" login_url /login;", "")


main(test)
