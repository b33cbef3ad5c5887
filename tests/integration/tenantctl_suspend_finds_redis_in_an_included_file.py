"""`tenantctl -c EDGE.conf` reads the config as the edge does, include
files too: with the `redis` and `tcs` directives in an included file,
suspend reaches the edge's Redis, database and prefix, and the edge
refuses the tenant with 403 within a second."""
import os

from chain_helpers import Redis, tenant
from harness import Env, main
from tenantctl_helpers import redis_edge, serving, suspend_and_expect_403


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"), prefix="inc:", db=2)
        sub = os.path.join(env.dir, "conf.d")
        os.mkdir(sub)
        with open(os.path.join(sub, "redis.conf"), "w") as f:
            f.write("redis %s {\n    database 2;\n    timeout 300ms;\n}\n"
                    % redis.addr)
        edge, _ = redis_edge(env, redis, head="include conf.d/redis.conf;",
                             redis_line="", tcs_block="prefix inc:;")
        serving(edge, "acme")

        suspend_and_expect_403(edge, "-c", edge.conf)


main(test)
