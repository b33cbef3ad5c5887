"""A session-revoke event on the events channel evicts the session on
every worker at once: with 2 workers and several keep-alive connections
spread over them, each connection that was served with the session is
refused with 401 within a second of the event, while the cache time
(60 s here) is far from over."""
import time

from harness import Env, check, main, read_response, send_request
from session_helpers import SID, cookie, put_session, revoke, session_edge

# 16 connections over 2 workers (SO_REUSEPORT hashes each one): the
# chance that one worker gets none is 2 in 65536.
CONNECTIONS = 16


def get(sock):
    send_request(sock, "GET", "/", "acme.edge.test", cookie(SID))
    return read_response(sock)


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, workers=2)
        put_session(redis, SID)

        socks = [edge.connect() for _ in range(CONNECTIONS)]
        try:
            for s in socks:
                r = get(s)
                check(r.status == 200 and not r.closed,
                      "served on every connection before the revoke")
            revoke(redis, SID)
            t0 = time.monotonic()

            pending = list(socks)
            # Bounded: 3 s at most, each connection asked every 50 ms.
            while pending and time.monotonic() - t0 < 3.0:
                still = []
                for s in pending:
                    r = get(s)
                    check(r.status in (200, 401),
                          "answered 200 or 401 (got %d)" % r.status)
                    if r.status == 200:
                        still.append(s)
                pending = still
                if pending:
                    time.sleep(0.05)
            took = time.monotonic() - t0
            check(not pending, "every connection refused the revoked "
                  "session (%d left)" % len(pending))
            check(took < 1.0, "within a second of the event (%.3f s)" % took)

            for s in socks:
                r = get(s)
                check(r.status == 401, "and stays refused on every "
                      "connection")
        finally:
            for s in socks:
                s.close()

        out = env.stop_edge(edge)
        check(SID not in out, "the session id is never logged")


main(test)
