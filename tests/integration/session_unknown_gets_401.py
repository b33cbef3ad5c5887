"""A session cookie that names no session is refused with 401 "invalid
session", and so is a cookie that cannot be a session id (wrong
characters or length) or that is ambiguous (two different values):
a bad credential is refused, never ignored."""
from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import SID, Fields, cookie, put_session, session_edge


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env)
        put_session(redis, SID)
        cases = [
            ("an unknown session", cookie("s-unknown-0123456789abcdef")),
            ("a too short id", cookie("abc")),
            ("an id with a bad character", cookie("s-0123456789abcdef*x")),
            ("an empty cookie", {"Cookie": "sid="}),
            ("two values", Fields([("Cookie", "sid=" + SID),
                                   ("Cookie", "sid=s-unknown-0123456789ab")])),
        ]
        for what, headers in cases:
            r = edge.get("/", host="acme.edge.test", headers=headers)
            check_refusal(r, 401, "invalid session", what)
        check(eu.heads() == [], "nothing reached the backend")

        r = edge.get("/", host="acme.edge.test",
                     headers={"Cookie": "sidx=1; xsid=2; sid"})
        check(r.status == 200, "cookies of other names do not count")


main(test)
