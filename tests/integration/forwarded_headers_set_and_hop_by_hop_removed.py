"""The backend receives X-Forwarded-For/-Proto/-Host set by the edge (not
the client's), a well-formed X-Request-Id kept and a malformed one
replaced, and no hop-by-hop field (also those named in Connection)."""
from harness import Env, check, main, two_regions

import re


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        r = edge.get("/h", host="acme.edge.test", headers={
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "1",
            "Keep-Alive": "timeout=5",
            "Proxy-Connection": "keep-alive",
            "TE": "trailers",
            "Upgrade": "websocket",
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Host": "evil.test",
            "X-Forwarded-Proto": "https",
            "X-Request-Id": "abc-123.DEF",
            "X-Custom": "kept",
        })
        check(r.status == 200, "request answered")
        h = r.json()["headers"]
        for name in ("connection", "x-secret-hop", "keep-alive",
                     "proxy-connection", "te", "upgrade"):
            check(name not in h, "%s was not forwarded" % name)
        check(h.get("x-custom") == "kept", "end-to-end fields are kept")
        check(h.get("x-forwarded-for") == "127.0.0.1",
              "X-Forwarded-For is the client address, not the client's claim")
        check(h.get("x-forwarded-host") == "acme.edge.test",
              "X-Forwarded-Host is the Host")
        check(h.get("x-forwarded-proto") == "http", "X-Forwarded-Proto http")
        check(h.get("x-request-id") == "abc-123.DEF",
              "a well-formed X-Request-Id is kept")
        check(r.headers.get("x-request-id") == "abc-123.DEF",
              "and returned to the client")

        r = edge.get("/h", host="acme.edge.test",
                     headers={"X-Request-Id": "bad id;<script>"})
        rid = r.json()["headers"].get("x-request-id", "")
        check(rid != "bad id;<script>" and re.fullmatch(r"[0-9a-f]{32}", rid),
              "a malformed X-Request-Id is replaced by a generated one")
        r2 = edge.get("/h", host="acme.edge.test")
        check(r2.json()["headers"].get("x-request-id") not in ("", rid),
              "every request gets its own id")


main(test)
