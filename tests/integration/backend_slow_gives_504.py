"""A backend slower than upstream_read_timeout gets the client a 504, and
one that answers garbage gets a 502."""
import time
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)   # upstream_read_timeout 2s
        t0 = time.monotonic()
        r = edge.get("/?delay=8000", host="acme.edge.test")
        took = time.monotonic() - t0
        check(r.status == 504, "slow backend gives 504")
        check(1.5 < took < 7, "504 came at the read timeout (%.1fs)" % took)

        r = edge.get("/?garbage=1", host="acme.edge.test")
        check(r.status == 502, "a backend answering garbage gives 502")

        r = edge.get("/after", host="acme.edge.test")
        check(r.status == 200, "the next request is served normally")


main(test)
