"""A backend that closes in the middle of a response body makes the proxy
close the client connection: a truncated body is never passed off as a
complete one (not with Content-Length, not with chunked)."""
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        r = edge.get("/?size=1000000&close_after=5000", host="acme.edge.test")
        check(r.status == 200, "the head was forwarded")
        check(r.closed and len(r.body) < 1000000,
              "content-length body: client connection closed short "
              "(%d bytes)" % len(r.body))

        r = edge.get("/?size=1000000&close_after=5000&chunked=1",
                     host="acme.edge.test")
        check(r.closed, "chunked body: closed without a last chunk")

        r = edge.get("/fine", host="acme.edge.test")
        check(r.status == 200, "the next request is served")


main(test)
