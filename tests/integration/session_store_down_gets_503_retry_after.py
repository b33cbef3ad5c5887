"""When Redis cannot answer, a request with a session cookie is refused
with 503 "session store unavailable" and Retry-After: 5: never a guess,
never a backend; a request without a cookie is not the session
module's (here the tenant module refuses it for the same reason)."""
from harness import Env, check, main, free_port
from chain_helpers import check_refusal
from session_helpers import CONF, SID, cookie


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF, eu=eu.addr, workers=1,
                        redis="127.0.0.1:%d" % free_port())
        r = edge.get("/", host="acme.edge.test", headers=cookie(SID))
        check_refusal(r, 503, "session store unavailable", "Redis down")
        check(r.headers.get("retry-after") == "5", "Retry-After: 5")
        r = edge.get("/", host="acme.edge.test")
        check_refusal(r, 503, "tenant context unavailable",
                      "Redis down, no cookie")
        check(eu.heads() == [], "nothing reached the backend")


main(test)
