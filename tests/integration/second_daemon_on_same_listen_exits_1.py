"""A second tenantedge started on an address another one already listens
on does not bind beside it (the workers' SO_REUSEPORT would let it, and
it would silently take a share of the traffic): it exits 1 with "cannot
listen on ADDR: address already in use", and the first daemon keeps
serving every request."""
import os
import subprocess

from harness import (CONFIG_TWO_REGIONS, SANITIZER_MARKS, TENANTEDGE, Env,
                     Process, check, main)


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        first = env.edge(CONFIG_TWO_REGIONS, eu=eu.addr, us=us.addr)
        addr = "127.0.0.1:%d" % first.port

        second = Process([TENANTEDGE, "-c", first.conf],
                         os.path.join(env.dir, "second.log"))
        env.procs.append(second)  # killed at the end if it still runs
        try:
            rc = second.proc.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        said = second.output()
        check(rc == 1, "the second daemon exits 1 (got %s: %s)"
              % ("still running after 20 s" if rc is None else rc,
                 said.strip()))
        check("cannot listen on %s: address already in use" % addr in said,
              "and says the address is taken (%r)" % said.strip())
        check(not any(m in said for m in SANITIZER_MARKS),
              "and leaves nothing behind")
        check("tenantedge ready" not in said, "it never served")

        served = 0
        for i in range(40):
            r = first.get("/n%d" % i, host="acme.edge.test",
                          headers={"Connection": "close"})
            served += r.status == 200
        check(served == 40, "the first daemon answered all 40 requests "
              "(%d)" % served)
        check(len(eu.heads()) == 40, "and all 40 reached the backend")
        env.stop_edge(first)


main(test)
