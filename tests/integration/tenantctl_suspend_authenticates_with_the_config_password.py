"""Against a Redis that requires a password, `tenantctl -c EDGE.conf
suspend` authenticates with the edge's `redis ADDR { password P; }` and
the edge refuses the tenant with 403 within a second; -a overrides the
config's password (a wrong one is refused by Redis: exit 1)."""
from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import (redis_edge, serving, suspend_and_expect_403,
                               tenantctl)

SECRET = "s3cret-pass"


def test():
    with Env() as env:
        redis = Redis(env, password=SECRET)
        redis.put_tenant(tenant("acme", "t-0001"))
        edge, _ = redis_edge(env, redis,
                             redis_block="password %s;" % SECRET)
        serving(edge, "acme")

        suspend_and_expect_403(edge, "-c", edge.conf)

        rc, out, err = tenantctl("-c", edge.conf, "-a", "wrong", "show",
                                 "acme")
        check(rc == 1 and out == "" and "redis refused AUTH" in err,
              "-a overrides the config's password (%d %r)" % (rc, err))


main(test)
