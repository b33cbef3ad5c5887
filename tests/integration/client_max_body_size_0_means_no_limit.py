"""`client_max_body_size 0` means no limit, as in nginx, for both body
framings alike: a Content-Length body and a 20 MiB chunked body both
reach the backend whole. (A non-zero limit refuses either framing with
413: oversized_head_gets_431_and_body_413.py.)"""
import hashlib

from harness import Env, check, main, read_response

CONF = """
listen {listen};
domain edge.test;
client_max_body_size 0;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1;
"""


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(CONF, eu=eu.addr)

        for body in (b"x", b"y" * (3 << 20)):
            r = edge.request("POST", "/up", host="acme.edge.test", body=body)
            check(r.status == 200 and
                  r.json()["body_length"] == len(body),
                  "a Content-Length body of %d bytes is forwarded whole "
                  "(got %d)" % (len(body), r.status))

        piece = bytes(range(256)) * 4096          # 1 MiB
        total = 20 * len(piece)
        s = edge.connect(timeout=60)
        s.sendall(b"POST /up HTTP/1.1\r\nHost: acme.edge.test\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(20):
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        r = read_response(s)
        s.close()
        want = hashlib.sha256(piece * 20).hexdigest()
        check(r.status == 200 and r.json()["body_length"] == total and
              r.json()["body_sha256"] == want,
              "a 20 MiB chunked body is forwarded whole (got %d)" % r.status)


main(test)
