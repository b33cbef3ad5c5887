"""SIGQUIT stops the daemon as SIGTERM does, never by the default action
(a core dump): it stops accepting, lets a request in flight finish with
200, and exits 0."""
import signal
import socket
import threading
import time

from harness import CONFIG_TWO_REGIONS, Env, check, main


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
        edge.signal(signal.SIGQUIT)
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
        out = env.stop_edge(edge)  # fails the test unless exit 0
        check("received SIGQUIT, draining" in out,
              "the log says SIGQUIT started the drain")
        check("tenantedge stopped" in out, "and the daemon stopped cleanly")


main(test)
