"""Through the daemon, the whole token matrix: valid RS256, ES256 and HS256
tokens minted by `tenantctl token` are served; every expired, premature,
misdirected, forged, confused, truncated, oversized or malformed one gets
401 with `WWW-Authenticate: Bearer error="invalid_token"`, a body that
says "invalid token" and nothing else, the real reason in the log, and
never reaches the backend. A request without a token passes on (no
`auth` rule here), without a principal."""
import json
import time

from harness import Env, check, main
from jwt_helpers import (ISS, b64u, check_invalid, check_served, hs256,
                         jwt_edge, mint, parts, unb64u)


def resign_none(tok, alg):
    """The token's claims under alg `alg` (a "none" variant), no
    signature, the kid kept."""
    h, _, (_, ps, _) = parts(tok)
    h["alg"] = alg
    return b64u(json.dumps(h)) + "." + ps + "."


def test():
    with Env() as env:
        edge, eu = jwt_edge(env)
        now = int(time.time())

        rs = mint(edge, "--sub", "alice")
        es = mint(edge, "--alg", "ES256", key="ec.key.pem", kid="ec-1")
        hs = mint(edge, "--alg", "HS256", key="hs256.secret", kid="hs-1")
        check_served(edge, eu, rs, "valid RS256")
        check_served(edge, eu, es, "valid ES256 (raw r||s)")
        check_served(edge, eu, hs, "valid HS256")
        check_served(edge, eu, mint(edge, "--claim",
                                    'aud:=["billing","tenantedge"]'),
                     "aud array holding ours")
        check_served(edge, eu, rs, "the same token again (cached)")

        check_invalid(edge, eu, mint(edge, "--claim", "exp:=%d"
                                     % (now - 3600)), "expired")
        check_invalid(edge, eu, mint(edge, "--claim", "nbf:=%d"
                                     % (now + 3600)), "nbf an hour ahead")
        check_invalid(edge, eu, mint(edge, "--claim", "iat:=%d"
                                     % (now + 3600)), "iat an hour ahead")
        check_invalid(edge, eu, mint(edge, "--iss",
                                     "https://id.example.test.evil.test"),
                      "wrong issuer")
        check_invalid(edge, eu, mint(edge, "--aud", "tenantedge-admin"),
                      "wrong audience")
        check_invalid(edge, eu, mint(edge, kid="rsa-404"), "unknown kid")
        check_invalid(edge, eu, mint(edge, kid=None),
                      "no kid while the set holds several keys")

        # key confusion: HS256 keyed with the RSA public key's PEM
        check_invalid(edge, eu, mint(edge, "--alg", "HS256",
                                     key="rsa.pub.pem", kid="rsa-1"),
                      "HS256 keyed with the RSA public PEM")
        for alg in ("none", "None", "NONE", "nOnE"):
            check_invalid(edge, eu, resign_none(rs, alg), "alg %s" % alg)
            check_invalid(edge, eu, resign_none(rs, alg) + "c2ln",
                          "alg %s with a signature" % alg)

        # signature and form
        h, p, s = rs.split(".")
        claims = json.loads(unb64u(p))
        claims["sub"] = "admin"
        check_invalid(edge, eu, "%s.%s.%s" % (h, b64u(json.dumps(claims)), s),
                      "tampered payload")
        check_invalid(edge, eu, rs[:-2], "signature a byte short")
        check_invalid(edge, eu, rs[:-1], "signature a character short")
        check_invalid(edge, eu, "%s.%s." % (h, p), "signature stripped")
        check_invalid(edge, eu, h + "=." + p + "." + s, "'=' padding")
        check_invalid(edge, eu, rs + "=", "'=' padding on the signature")
        check_invalid(edge, eu, h + "." + p + "." + s[:10] + "*!*" + s[10:],
                      "stray characters in the signature")
        check_invalid(edge, eu, rs + ".e30", "four segments")
        check_invalid(edge, eu, mint(edge, "--claim", "pad=" + "p" * 10000),
                      "a 13 KB token, over max_token_size 8k")
        # well signed (HS256, the test secret) but malformed inside
        std = ('"iss":"%s","aud":"tenantedge","sub":"u","exp":%d'
               % (ISS, now + 600))
        crafted = [
            ('{"alg":"HS256","kid":"hs-1","crit":["exp"]}', "{%s}" % std,
             "crit header"),
            ('{"alg":"HS256","kid":"hs-1","jku":"https://x.test/k"}',
             "{%s}" % std, "jku header"),
            ('{"alg":"HS256","kid":"hs-1","alg":"HS256"}', "{%s}" % std,
             "duplicate header name"),
            ('{"alg":"HS256","kid":"hs-1"}',
             '{%s,"tenant":"t-0002","tenant":"t-0001"}' % std,
             "duplicate claim"),
            ('{"alg":"HS256","kid":"hs-1"}',
             '{%s,"x":%s}' % (std, "[" * 20 + "]" * 20), "deep JSON"),
            ('{"alg":"HS256","kid":"hs-1"}', '{%s,"exp":"soon"}'
             % std.replace(',"exp":%d' % (now + 600), ""),
             "exp not a number"),
        ]
        for header, payload, what in crafted:
            check_invalid(edge, eu, hs256(header, payload), what)
        check_served(edge, eu, hs256('{"alg":"HS256","kid":"hs-1"}',
                                     '{%s,"tenant":"t-0001"}' % std),
                     "the crafting itself is sound")
        check_invalid(edge, eu, "Zm9v", "not a JWT at all")

        # no token: served, no principal (auth is the policy's call)
        r = edge.get("/jira/none", host="acme.edge.test")
        check(r.status == 200 and "x-principal-user" not in r.json()[
            "headers"], "no token: served without a principal")
        r = edge.get("/jira/basic", host="acme.edge.test",
                     headers={"Authorization": "Basic YTpi"})
        check(r.status == 200, "another scheme is not the module's")

        out = env.stop_edge(edge)
        for reason in ("expired", "untrusted issuer", "wrong audience",
                       "unknown kid", "alg none", "bad signature",
                       "token too large", "alg is not the one of its key"):
            check("bearer token refused: %s" % reason in out,
                  "the log says why: %s" % reason)
        check("req=" in out and "tenant=t-0001" in out,
              "refusals are logged with req= and tenant=")


main(test)
