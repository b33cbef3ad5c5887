"""A valid token opens only its own tenant's sites: acme's token is
served on acme and refused with 403 on globex (and the other way
round), a token without a tenant claim is refused with 403 everywhere,
and none of the refused requests reaches the backend."""
import time

from harness import Env, check, main
from jwt_helpers import (AUD, ISS, bearer, check_served, hs256, jwt_edge,
                         mint, reached)


def refused_403(edge, backend, tok, host, what):
    r = edge.get("/jira/other-%s" % what.replace(" ", "-"), host=host,
                 headers=bearer(tok))
    check(r.status == 403, "%s: 403 (got %d %r)" % (what, r.status,
                                                    r.body[:120]))
    check(r.json()["error"] == "token not valid for this tenant",
          "%s: the reason says so" % what)
    check(not reached(backend, "other-%s" % what.replace(" ", "-")),
          "%s: the backend saw nothing" % what)


def test():
    with Env() as env:
        edge, eu = jwt_edge(env)
        acme = mint(edge, tenant="t-0001")
        globex = mint(edge, "--alg", "ES256", key="ec.key.pem", kid="ec-1",
                      tenant="t-0002")
        check_served(edge, eu, acme, "acme's token on acme")
        check_served(edge, eu, globex, "globex's token on globex",
                     host="globex.edge.test")
        refused_403(edge, eu, acme, "globex.edge.test",
                    "acme token on globex")
        refused_403(edge, eu, globex, "acme.edge.test",
                    "globex token on acme")
        untenanted = hs256('{"alg":"HS256","kid":"hs-1"}',
                           '{"iss":"%s","aud":"%s","sub":"u","exp":%d}'
                           % (ISS, AUD, int(time.time()) + 600))
        refused_403(edge, eu, untenanted, "acme.edge.test",
                    "no tenant claim")

        out = env.stop_edge(edge)
        check("for tenant t-0001 refused on another tenant's site" in out
              and "tenant=t-0002" in out,
              "the log names the token's tenant and the site's")


main(test)
