"""SIGTERM stops accepting new connections, lets a request in flight
finish, and the daemon then exits 0 (within drain_timeout)."""
import signal
import socket
import threading
import time
from harness import Env, check, main, CONFIG_TWO_REGIONS


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        edge = env.edge(CONFIG_TWO_REGIONS.replace(
            "upstream_read_timeout 2s;", "upstream_read_timeout 10s;")
            + "drain_timeout 8s;\n", eu=eu.addr, us=us.addr)
        result = {}

        def slow():
            result["r"] = edge.get("/?delay=2500", host="acme.edge.test")

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.8)
        edge.signal(signal.SIGTERM)
        time.sleep(0.5)
        try:
            socket.create_connection(("127.0.0.1", edge.port),
                                     timeout=2).close()
            refused = False
        except OSError:
            refused = True
        check(refused, "new connections are refused while draining")
        t.join(20)
        r = result.get("r")
        check(r is not None and r.status == 200,
              "the request in flight completed with 200")
        t0 = time.monotonic()
        out = env.stop_edge(edge)
        check(time.monotonic() - t0 < 8, "the daemon exited after the drain")
        check("AddressSanitizer" not in out, "clean exit")


main(test)
