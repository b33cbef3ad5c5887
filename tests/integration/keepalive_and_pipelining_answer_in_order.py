"""Several requests on one connection, sent one by one (keep-alive) and
all at once (pipelining), are each answered, in order."""
from harness import Env, check, main, two_regions, read_response


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)

        s = edge.connect()
        for i in range(5):
            s.sendall(b"GET /ka-%d HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n"
                      % i)
            r = read_response(s)
            check(r.status == 200 and r.json()["path"] == "/ka-%d" % i,
                  "keep-alive request %d answered on the same connection"
                  % i)
        s.close()

        s = edge.connect()
        batch = b"".join(
            b"GET /pipe-%d HTTP/1.1\r\nHost: %s.edge.test\r\n\r\n"
            % (i, b"acme" if i % 2 == 0 else b"globex") for i in range(8))
        s.sendall(batch)
        for i in range(8):
            r = read_response(s)
            body = r.json()
            want = "eu-1" if i % 2 == 0 else "us-1"
            check(r.status == 200 and body["path"] == "/pipe-%d" % i
                  and body["shard"] == want,
                  "pipelined response %d in order, from %s" % (i, want))
        s.close()


main(test)
