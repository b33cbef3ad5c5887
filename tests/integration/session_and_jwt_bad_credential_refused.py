"""With `chain session jwt tenant policy route;` a request is identified
by whichever credential it carries, a session cookie or a bearer token,
and the backend gets the principal once; a request that carries a bad
credential is refused even when the other one would pass: a live
session with a tampered token, a valid token with an unknown session,
or two good credentials naming different users, in either order of the
chain."""
import json

from harness import Env, check, main
from chain_helpers import check_refusal
from jwt_helpers import AUD, ISS, JWKS, b64u, bearer, mint, parts
from session_helpers import CONF, SID, cookie, put_session, session_edge

JWT = """
module jwt {
    jwks %s;
    issuer %s;
    audience %s;
    tenant_claim tenant;
}
""" % (JWKS, ISS, AUD)

CHAINED = CONF.replace("chain session tenant policy route;",
                       "chain session jwt tenant policy route;") + JWT


def both(tok):
    return dict(cookie(SID), **bearer(tok))


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, conf=CHAINED,
                                       extra="module policy { auth "
                                             "required; }\n")
        put_session(redis, SID, user="u-1")
        good = mint(edge, "--sub", "u-1")
        other = mint(edge, "--sub", "u-2")
        _, payload, (head, _, sig) = parts(good)
        payload["sub"] = "u-admin"
        tampered = "%s.%s.%s" % (head, b64u(json.dumps(payload)), sig)

        r = edge.get("/", host="acme.edge.test", headers=cookie(SID))
        check(r.status == 200, "a live session alone is served (got %d)"
              % r.status)
        h1 = r.json()["headers"]
        check(h1.get("x-principal-user") == "u-1" and
              h1.get("x-principal-kind") == "user",
              "as u-1, kind user, once (%r, %r)"
              % (h1.get("x-principal-user"), h1.get("x-principal-kind")))

        r = edge.get("/", host="acme.edge.test", headers=bearer(good))
        check(r.status == 200, "a valid token alone is served (got %d %r)"
              % (r.status, r.body[:200]))
        check(r.json()["headers"].get("x-principal-user") == "u-1",
              "as the token's subject")

        r = edge.get("/", host="acme.edge.test", headers=both(good))
        check(r.status == 200, "both, naming the same user, are served "
              "(got %d)" % r.status)
        check(r.json()["headers"].get("x-principal-user") == "u-1",
              "and the principal is forwarded once (%r)"
              % r.json()["headers"].get("x-principal-user"))

        before = len(eu.heads())
        r = edge.get("/", host="acme.edge.test", headers=both(tampered))
        check(r.status == 401 and r.json()["error"] == "invalid token",
              "a live session with a tampered token: 401 invalid token "
              "(got %d %r)" % (r.status, r.body[:200]))
        r = edge.get("/", host="acme.edge.test", headers=dict(
            cookie("s-unknown-0123456789abcdef"), **bearer(good)))
        check_refusal(r, 401, "invalid session",
                      "a valid token with an unknown session")
        r = edge.get("/", host="acme.edge.test", headers=both(other))
        check(r.status == 401, "a session of u-1 with a token of u-2: 401 "
              "(got %d %r)" % (r.status, r.body[:200]))
        r = edge.get("/", host="acme.edge.test")
        check_refusal(r, 401, "authentication required", "no credential")
        check(len(eu.heads()) == before, "no refused request reached the "
              "backend")
        env.stop_edge(edge)

        # the other order: the token is proved first, the session must
        # name the same caller
        edge = env.edge(CHAINED.replace("chain session jwt",
                                        "chain jwt session"),
                        name="edge2", eu=eu.addr, redis=redis.addr,
                        workers=1)
        r = edge.get("/", host="acme.edge.test", headers=both(good))
        check(r.status == 200 and
              r.json()["headers"].get("x-principal-user") == "u-1",
              "jwt first: both naming u-1 are served, u-1 forwarded once")
        r = edge.get("/", host="acme.edge.test", headers=both(other))
        check_refusal(r, 401, "invalid session",
                      "jwt first: a token of u-2 with a session of u-1")


main(test)
