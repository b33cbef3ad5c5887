"""SIGQUIT stops the daemon as SIGTERM does, never by the default action
(a core dump): it stops accepting, lets a request in flight finish with
200, and exits 0."""
import signal

from harness import check, drain_in_flight, main


def test():
    out = drain_in_flight(signal.SIGQUIT)
    check("received SIGQUIT, draining" in out,
          "the log says SIGQUIT started the drain")


main(test)
