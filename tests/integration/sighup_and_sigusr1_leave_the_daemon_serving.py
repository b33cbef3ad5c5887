"""SIGHUP, SIGUSR1 and SIGUSR2 no longer kill the daemon: SIGHUP reloads
(the TLS part of the configuration; here there is none) and logs one
notice saying so, SIGUSR1 logs the counters, SIGUSR2 is ignored, and
the daemon keeps serving throughout; it still stops cleanly (exit 0) on
SIGTERM."""
import signal
import time

from harness import CONFIG_TWO_REGIONS, Env, check, main

NOTICE = ("notice reloaded: TLS certificates and ticket keys (other "
          "settings need a restart)")


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        edge = env.edge(CONFIG_TWO_REGIONS, eu=eu.addr, us=us.addr)

        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            edge.proc.send_signal(sig)
            time.sleep(0.5)
            check(edge.proc.poll() is None,
                  "%s: the daemon is still running" % sig.name)
            r = edge.get("/after-%s" % sig.name, host="acme.edge.test")
            check(r.status == 200 and r.json()["shard"] == "eu-1",
                  "%s: and serving (got %d)" % (sig.name, r.status))

        out = edge.output()
        check(out.count(NOTICE) == 1,
              "SIGHUP logged the reload notice once (%r)" % out[-600:])
        check("draining" not in out, "no signal started a drain")
        check(out.count("notice counters: handshakes=") == 2,
              "SIGUSR1 and the reload each logged the counters once")
        env.stop_edge(edge)


main(test)
