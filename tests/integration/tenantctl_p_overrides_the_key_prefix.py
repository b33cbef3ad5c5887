"""`tenantctl -p PREFIX` writes under PREFIX (without -c, where the
default is tcs:), so an edge with `tcs { prefix PREFIX; }` refuses the
suspended tenant with 403 within a second; a prefix the edge would not
accept is a usage error (exit 2)."""
from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import (redis_edge, serving, suspend_and_expect_403,
                               tenantctl)


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"), prefix="eu.edge:")
        edge, _ = redis_edge(env, redis, tcs_block="prefix eu.edge:;")
        serving(edge, "acme")

        suspend_and_expect_403(edge, "-r", redis.addr, "-p", "eu.edge:")

        for bad in ("tcs*", "a b", ""):
            rc, out, err = tenantctl("-r", redis.addr, "-p", bad, "list")
            check(rc == 2 and out == "" and "usage:" in err,
                  "-p %r: exit 2 with the usage (%d)" % (bad, rc))


main(test)
