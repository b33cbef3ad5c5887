"""A client that sends Expect: 100-continue gets the interim 100 before it
sends its body, and the body reaches the backend intact; a chunked upload
(with chunk extensions and a trailer) arrives with exactly its payload."""
import hashlib
from harness import Env, check, main, two_regions, read_response


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)
        body = b"0123456789" * 1000
        s = edge.connect()
        s.sendall(b"PUT /up HTTP/1.1\r\nHost: acme.edge.test\r\n"
                  b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                  % len(body))
        interim = s.recv(4096)
        check(interim.startswith(b"HTTP/1.1 100"),
              "100 Continue came before the body was sent")
        s.sendall(body)
        r = read_response(s)
        s.close()
        check(r.status == 200, "the upload was answered 200")
        j = r.json()
        check(j["body_length"] == len(body) and
              j["body_sha256"] == hashlib.sha256(body).hexdigest(),
              "the body arrived intact")
        check("expect" not in j["headers"], "Expect is not forwarded")

        s = edge.connect()
        s.sendall(b"POST /chunks HTTP/1.1\r\nHost: acme.edge.test\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n"
                  b"5;name=\"v\"\r\nhello\r\n"
                  b"6\r\n world\r\n"
                  b"0\r\nX-Trailer: t\r\n\r\n")
        r = read_response(s)
        s.close()
        j = r.json()
        check(r.status == 200 and j["body_length"] == 11 and
              j["body_sha256"] == hashlib.sha256(b"hello world").hexdigest(),
              "a chunked upload arrives with exactly its payload")


main(test)
