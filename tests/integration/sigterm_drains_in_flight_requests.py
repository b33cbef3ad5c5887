"""SIGTERM stops accepting new connections, lets a request in flight
finish, and the daemon then exits 0 (within drain_timeout)."""
import signal

from harness import check, drain_in_flight, main


def test():
    out = drain_in_flight(signal.SIGTERM)
    check("received SIGTERM, draining" in out,
          "the log says SIGTERM started the drain")


main(test)
