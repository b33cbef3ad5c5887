"""A request whose session cookie names a live session is served, and the
backend receives the caller as X-Principal-User (the session's user) and
X-Principal-Kind: user, once each; a client's own X-Principal-* fields
never pass. The cookie may come in any of several Cookie fields, quoted
or not, among other cookies."""
from harness import Env, check, main
from session_helpers import SID, Fields, cookie, put_session, session_edge


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env)
        put_session(redis, SID, user="alice@example.com")

        headers = dict(cookie(SID))
        headers["X-Principal-User"] = "root"
        headers["X-Principal-Kind"] = "service"
        r = edge.get("/", host="acme.edge.test", headers=headers)
        check(r.status == 200, "a live session is served (got %d %r)"
              % (r.status, r.body[:200]))
        h = r.json()["headers"]
        check(h.get("x-principal-user") == "alice@example.com",
              "the backend gets the session's user, once (%r)"
              % h.get("x-principal-user"))
        check(h.get("x-principal-kind") == "user",
              "the backend gets X-Principal-Kind: user, once (%r)"
              % h.get("x-principal-kind"))
        check(h.get("x-tenant-id") == "t-0001", "and the tenant fields")

        r = edge.get("/", host="acme.edge.test", headers=Fields([
            ("Cookie", "theme=dark"), ("Cookie", 'sid="%s"' % SID),
            ("Cookie", "other=1; sid=%s" % SID)]))
        check(r.status == 200 and
              r.json()["headers"].get("x-principal-user") ==
              "alice@example.com",
              "the cookie is found across several Cookie fields, quoted "
              "or not (got %d)" % r.status)

        r = edge.get("/", host="acme.edge.test",
                     headers={"X-Principal-User": "root"})
        check(r.status == 200 and
              "x-principal-user" not in r.json()["headers"],
              "without a cookie there is no principal, and the client's "
              "field is stripped")


main(test)
