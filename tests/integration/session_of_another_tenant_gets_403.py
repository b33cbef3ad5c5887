"""A live session opens only the tenant it was issued for: on another
tenant's site it is refused with 403 "session for another tenant", and
nothing reaches the backend."""
from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import SID, cookie, put_session, session_edge


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env)
        put_session(redis, SID, tenant_id="t-0001")

        r = edge.get("/", host="acme.edge.test", headers=cookie(SID))
        check(r.status == 200, "served on its own tenant's site")
        before = len(eu.heads())
        r = edge.get("/", host="globex.edge.test", headers=cookie(SID))
        check_refusal(r, 403, "session for another tenant",
                      "the same session on globex")
        check(len(eu.heads()) == before, "nothing reached the backend")


main(test)
