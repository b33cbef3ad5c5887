"""The top-level principal_headers block names the fields every identity
module's principal reaches the backend in: with `chain session jwt ...`
and renamed fields, a session's principal and a token's both arrive
under the renamed names only, never under the default X-Principal-*
ones, and the client's own fields of those names never pass. The jwt
module's own principal_headers block is an alias of the same setting."""
from harness import Env, check, main
from jwt_helpers import AUD, ISS, JWKS, bearer, mint
from session_helpers import CONF, SID, cookie, put_session, session_edge

JWT = """
module jwt {
    jwks %s;
    issuer %s;
    audience %s;
    tenant_claim tenant;
    %%s
}
""" % (JWKS, ISS, AUD)

CHAINED = CONF.replace("chain session tenant policy route;",
                       "chain session jwt tenant policy route;")
RENAMED = "principal_headers { user X-User; kind X-Caller-Kind; " \
          "scopes X-Scopes; }\n"
FORGED = {"X-User": "root", "X-Caller-Kind": "service", "X-Scopes": "admin",
          "X-Principal-User": "root", "X-Principal-Kind": "service",
          "X-Principal-Scopes": "admin"}
DEFAULTS = ("x-principal-user", "x-principal-kind", "x-principal-scopes")


def seen(edge, creds):
    r = edge.get("/", host="acme.edge.test", headers=dict(FORGED, **creds))
    check(r.status == 200, "served (got %d %r)" % (r.status, r.body[:200]))
    return r.json()["headers"]


def check_renamed(edge, redis):
    put_session(redis, SID, user="u-1")
    h = seen(edge, cookie(SID))
    check(h.get("x-user") == "u-1" and h.get("x-caller-kind") == "user",
          "a session's principal under the renamed names (%r)" % h)
    check("x-scopes" not in h, "a session has no scopes, the client's "
          "X-Scopes is dropped (%r)" % h.get("x-scopes"))
    check(not any(k in h for k in DEFAULTS),
          "nothing under the default names for a session (%r)" % h)

    tok = mint(edge, "--sub", "u-2", "--claim", "scope=read write")
    h = seen(edge, bearer(tok))
    check(h.get("x-user") == "u-2" and h.get("x-caller-kind") == "user" and
          h.get("x-scopes") == "read write",
          "a token's principal under the renamed names (%r)" % h)
    check(not any(k in h for k in DEFAULTS),
          "nothing under the default names for a token (%r)" % h)

    h = seen(edge, {})
    check(not any(k in h for k in ("x-user", "x-caller-kind", "x-scopes")
                  + DEFAULTS),
          "no credential: none of the client's principal fields pass (%r)"
          % h)


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, conf=CHAINED,
                                       extra=RENAMED + (JWT % ""))
        check_renamed(edge, redis)
        env.stop_edge(edge)

        # the jwt module's block, as operators' configs have it
        edge, redis, eu = session_edge(
            env, conf=CHAINED, name="edge2",
            extra=JWT % RENAMED.replace("\n", ""))
        check_renamed(edge, redis)


main(test)
