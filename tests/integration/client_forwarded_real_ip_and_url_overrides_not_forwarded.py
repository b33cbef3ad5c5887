"""The edge is the first hop: what a proxy in front would assert about the
client comes from the edge, never from the client. Its Forwarded,
X-Real-IP (and the other client-address fields frameworks trust),
X-Forwarded-Port, X-Forwarded-Prefix and every other X-Forwarded-* are
dropped; the backend gets the edge's X-Forwarded-For, -Proto and -Host.
X-Original-URL and X-Rewrite-URL, which IIS, Symfony and Zend take as
the request's URL, are default internal headers and never pass either."""
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        r = edge.get("/wiki/", host="acme.edge.test", headers={
            "Forwarded": "for=6.6.6.6;proto=https;host=evil.test",
            "X-Real-IP": "6.6.6.6",
            "X-Client-IP": "6.6.6.6",
            "True-Client-IP": "6.6.6.6",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Prefix": "/admin",
            "X-Forwarded-Ssl": "on",
            "X-Original-URL": "/jira/secret",
            "X-Rewrite-URL": "/jira/secret",
            "X-Custom": "kept",
        })
        check(r.status == 200, "the request is served")
        h = r.json()["headers"]
        for name in ("forwarded", "x-real-ip", "x-client-ip",
                     "true-client-ip", "x-forwarded-port",
                     "x-forwarded-prefix", "x-forwarded-ssl",
                     "x-original-url", "x-rewrite-url"):
            check(name not in h, "the client's %s was not forwarded" % name)
        check(h.get("x-forwarded-for") == "127.0.0.1" and
              h.get("x-forwarded-proto") == "http" and
              h.get("x-forwarded-host") == "acme.edge.test",
              "X-Forwarded-For, -Proto and -Host are the edge's")
        check(h.get("x-custom") == "kept", "other fields pass")
        check(r.json()["path"] == "/wiki/", "the request line's path is "
              "the one the backend gets")


main(test)
