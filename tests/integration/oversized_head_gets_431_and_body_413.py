"""Limits: a head over client_max_header_size gets 431, too many fields
431, a request line over client_max_request_line 414, a body over
client_max_body_size 413 before anything reaches the backend, and an
unsupported HTTP version 505."""
from harness import Env, check, main, CONFIG_TWO_REGIONS

EXTRA = """
client_max_header_size 4k;
client_max_request_line 1k;
client_max_headers 20;
client_max_body_size 1k;
"""


def status(out):
    return out.split(b" ", 2)[1].decode() if out.startswith(b"HTTP/") \
        else "closed"


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        edge = env.edge(CONFIG_TWO_REGIONS + EXTRA, eu=eu.addr, us=us.addr)
        H = b"Host: acme.edge.test\r\n"

        out = edge.raw(b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 5000
                       + b"\r\n\r\n")
        check(status(out) == "431", "a 5000-byte field gets 431")
        out = edge.raw(b"GET / HTTP/1.1\r\n" + H + b"".join(
            b"X-F%d: v\r\n" % i for i in range(30)) + b"\r\n")
        check(status(out) == "431", "30 fields over a limit of 20: 431")
        out = edge.raw(b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n" + H
                       + b"\r\n")
        check(status(out) == "414", "a 2000-byte target gets 414")
        out = edge.raw(b"POST / HTTP/1.1\r\n" + H +
                       b"Content-Length: 2000\r\n\r\n" + b"x" * 2000)
        check(status(out) == "413", "a 2000-byte body over 1k gets 413")
        out = edge.raw(b"POST / HTTP/1.1\r\n" + H +
                       b"Transfer-Encoding: chunked\r\n\r\n" +
                       b"400\r\n" + b"y" * 1024 + b"\r\n" +
                       b"400\r\n" + b"y" * 1024 + b"\r\n0\r\n\r\n",
                       timeout=5)
        check(status(out) in ("413", "closed"),
              "a chunked body passing 1k is refused (%s)" % status(out))
        out = edge.raw(b"GET / HTTP/2.0\r\n" + H + b"\r\n")
        check(status(out) == "505", "HTTP/2.0 in an h1 request line: 505")
        posts = [h for h in eu.heads() if h["method"] == "POST"
                 and h.get("path") == "/"]
        check(all(h["headers"].get("content-length") != "2000"
                  for h in posts), "the oversized CL body never reached "
              "the backend")
        check(len([h for h in eu.heads()]) <= 1,
              "nothing but possibly the chunked head reached the backend")


main(test)
