"""A Host that names no configured site gets 404 with a short JSON error,
and nothing reaches a backend."""
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        for host in ("nobody.edge.test", "edge.test", "acme.other.test",
                     "a.acme.edge.test", "127.0.0.1"):
            r = edge.get("/", host=host)
            check(r.status == 404, "%s gets 404" % host)
            check(r.headers.get("content-type", "").startswith(
                "application/json"), "%s: the error is JSON" % host)
            body = r.json()
            check(body.get("error") and body.get("request_id"),
                  "%s: the body names the error and the request id" % host)
        check(eu.heads() == [] and us.heads() == [],
              "no backend saw any of them")


main(test)
