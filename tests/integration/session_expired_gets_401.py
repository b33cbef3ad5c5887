"""A session cookie whose session has expired is refused with 401, the
reason "invalid session" and a challenge naming the cookie, and nothing
reaches the backend; a session that expires while cached is refused
from then on, without waiting for the cache time."""
import time

from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import SID, cookie, put_session, session_edge


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env)
        put_session(redis, SID, ttl=-10)
        r = edge.get("/", host="acme.edge.test", headers=cookie(SID))
        check_refusal(r, 401, "invalid session", "an expired session")
        check(r.headers.get("www-authenticate") == 'Cookie name="sid"',
              "the 401 carries a challenge (%r)"
              % r.headers.get("www-authenticate"))
        check(eu.heads() == [], "nothing reached the backend")

        other = "s-soon-0123456789abcdef"
        put_session(redis, other, ttl=2)
        r = edge.get("/", host="acme.edge.test", headers=cookie(other))
        check(r.status == 200, "a session with 2 s left is served")
        time.sleep(2.5)
        r = edge.get("/", host="acme.edge.test", headers=cookie(other))
        check_refusal(r, 401, "invalid session",
                      "the same session once its expiry passed")


main(test)
