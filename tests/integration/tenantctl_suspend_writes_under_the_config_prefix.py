"""`tenantctl -c EDGE.conf suspend` writes under the key prefix the
edge reads (`tcs { prefix edge1:; }`), not under the default tcs:, so
the edge refuses the tenant with 403 within a second; a record of the
same site under tcs: is left alone."""
from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import redis_edge, serving, suspend_and_expect_403


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"), prefix="edge1:")
        redis.put_tenant(tenant("acme", "t-0001"))  # a decoy under tcs:
        edge, _ = redis_edge(env, redis, tcs_block="prefix edge1:;")
        serving(edge, "acme")

        suspend_and_expect_403(edge, "-c", edge.conf)
        check('"status": "active"' in redis.get("tcs:tenant:t-0001"),
              "the record under tcs: was not touched")


main(test)
