"""Every ambiguous request framing the issue lists is answered 400 (or
431/505 where they fit) and closed; the backend never sees any of it, not
even the head, and not a request hidden behind it."""
from harness import Env, check, main, two_regions

H = b"Host: acme.edge.test\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n"

SHAPES = {
    "cl and te": b"POST /s1 HTTP/1.1\r\n" + H +
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te and cl": b"POST /s2 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
    "differing cl": b"POST /s3 HTTP/1.1\r\n" + H +
    b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    "cl list": b"POST /s4 HTTP/1.1\r\n" + H +
    b"Content-Length: 4, 5\r\n\r\nabcde",
    "cl sign": b"POST /s5 HTTP/1.1\r\n" + H + b"Content-Length: +4\r\n\r\nabcd",
    "cl overflow": b"POST /s6 HTTP/1.1\r\n" + H +
    b"Content-Length: 18446744073709551620\r\n\r\nabcd",
    "te not final chunked": b"POST /s7 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "te gzip": b"POST /s8 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: gzip\r\n\r\n",
    "te twice": b"POST /s9 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad chunk size": b"POST /s10 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + SMUGGLED,
    "chunk overflow": b"POST /s11 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nabcde\r\n0\r\n\r\n",
    "obs-fold": b"GET /s12 HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n",
    "nul in value": b"GET /s13 HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n",
    "cr in value": b"GET /s14 HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n",
    "lf in value": b"GET /s15 HTTP/1.1\r\n" + H + b"X-A: a\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
    "space before colon": b"GET /s16 HTTP/1.1\r\n" + H + b"X-A : a\r\n\r\n",
    "tab before colon": b"POST /s17 HTTP/1.1\r\n" + H +
    b"Transfer-Encoding\t: chunked\r\nContent-Length: 3\r\n\r\nabc",
    "missing host": b"GET /s18 HTTP/1.1\r\nX-A: 1\r\n\r\n",
    "two hosts": b"GET /s19 HTTP/1.1\r\n" + H + b"Host: globex.edge.test\r\n\r\n",
    "absolute form other host": b"GET http://globex.edge.test/s20 HTTP/1.1\r\n"
    + H + b"\r\n",
    "te on http/1.0": b"POST /s21 HTTP/1.0\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        for name, data in SHAPES.items():
            out = edge.raw(data, timeout=5)
            status = out.split(b" ", 2)[1] if out.startswith(b"HTTP/") \
                else b"closed"
            check(status in (b"400", b"501", b"closed"),
                  "%s: refused (%s)" % (name, status.decode()))
            check(out.count(b"HTTP/1.1 ") <= 1,
                  "%s: nothing after the refusal is answered" % name)
        check(eu.heads() == [] and us.heads() == [],
              "no backend saw any of these requests")
        r = edge.get("/after", host="acme.edge.test")
        check(r.status == 200, "a clean request is still served")


main(test)
