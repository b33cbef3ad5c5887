"""An HTTP/1.0 request in absolute-form without a Host field is routed by
the target's authority (RFC 9112 3.2.2), and the backend gets that
authority as its Host; an unknown authority is an unknown site."""
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        out = edge.raw(b"GET http://acme.edge.test/jira/a HTTP/1.0\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 200 "),
              "acme's absolute-form request is served (%r)" % out[:40])
        heads = eu.heads()
        check(len(heads) == 1 and heads[0]["path"] == "/jira/a",
              "it reached acme's shard, in origin-form")
        h = heads[0]["headers"]
        check(h.get("host") == "acme.edge.test",
              "the backend gets the authority as Host (%r)" % h.get("host"))
        check(h.get("x-forwarded-host") == "acme.edge.test",
              "and as X-Forwarded-Host")

        out = edge.raw(b"GET http://GLOBEX.edge.test:8080/ HTTP/1.0\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 200 ") and len(us.heads()) == 1,
              "globex (any case, with a port) goes to its own shard")

        out = edge.raw(b"GET http://nobody.edge.test/ HTTP/1.0\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 404 ") and b"unknown site" in out,
              "an unknown authority is an unknown site")


main(test)
