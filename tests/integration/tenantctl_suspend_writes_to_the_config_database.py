"""`tenantctl -c EDGE.conf suspend` writes to the Redis database the
edge reads (`redis ADDR { database 3; }`), not to database 0, so the
edge refuses the tenant with 403 within a second; a record of the same
site in database 0 is left alone. -n still overrides the config."""
from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import (redis_edge, serving, suspend_and_expect_403,
                               tenantctl)


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"), db=3)
        redis.put_tenant(tenant("acme", "t-0001"))  # a decoy in db 0
        redis.put_tenant(tenant("globex", "t-0002"), db=3)
        edge, _ = redis_edge(env, redis, redis_block="database 3;")
        serving(edge, "acme")

        suspend_and_expect_403(edge, "-c", edge.conf)
        check('"status": "active"' in redis.get("tcs:tenant:t-0001"),
              "the record in database 0 was not touched")

        rc, _, err = tenantctl("-c", edge.conf, "-n", "0", "show", "globex")
        check(rc == 1 and "no such site: globex" in err,
              "-n 0 overrides the config's database (%d %r)" % (rc, err))


main(test)
