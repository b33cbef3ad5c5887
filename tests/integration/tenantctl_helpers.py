"""Helpers for the tests of `tenantctl -c EDGE.conf`: an edge reading its
tenants from a redis-server of the test's own (chain_helpers.Redis),
tenantctl run as an operator runs it, and the wait for the edge to
refuse a tenant tenantctl suspended."""

import os
import subprocess
import time

from harness import BUILDDIR, SANITIZER_MARKS, TestFailure, check

TENANTCTL = os.path.join(BUILDDIR, "tools", "tenantctl")

# {redis_block} and {tcs_block} are the insides of the edge's `redis`
# and `tcs` blocks; {head} comes first (include lines, ...).
CONF = """
{head}
workers 2;
listen {listen};
domain edge.test;
log_level info;
region eu { shard eu-1 { backend {eu} zone z1; } }
{redis_line}
tcs { store redis; {tcs_block} }
"""

REDIS_LINE = ("redis {redis} { timeout 300ms; connect_timeout 500ms; "
              "{redis_block} }")


def redis_edge(env, redis, redis_block="", tcs_block="", head="",
               redis_line=None):
    """A backend for eu-1 and an edge with store redis on redis; returns
    (edge, backend)."""
    eu = env.backend("eu-1", region="eu")
    line = REDIS_LINE if redis_line is None else redis_line
    conf = (CONF.replace("{redis_line}", line)
            .replace("{redis_block}", redis_block)
            .replace("{tcs_block}", tcs_block)
            .replace("{head}", head))
    edge = env.edge(conf, eu=eu.addr, redis=redis.addr)
    return edge, eu


def tenantctl(*args):
    """Runs tenantctl; returns (exit status, stdout, stderr). A sanitizer
    report fails the test."""
    argv = [TENANTCTL] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    for mark in SANITIZER_MARKS:
        if mark in p.stderr:
            raise TestFailure("sanitizer report from %s:\n%s"
                              % (" ".join(argv), p.stderr))
    return p.returncode, p.stdout, p.stderr


def serving(edge, site):
    r = edge.get("/", host=site + ".edge.test")
    check(r.status == 200, "the edge serves %s before the change (got %d)"
          % (site, r.status))


def refused_within(edge, site, seconds=1.0):
    """Asks for site until the edge answers 403, for at most seconds;
    returns how long it took, or None."""
    t0 = time.monotonic()
    for _ in range(int(seconds / 0.02) + 1):
        r = edge.get("/", host=site + ".edge.test")
        if r.status == 403:
            return time.monotonic() - t0
        if time.monotonic() - t0 > seconds:
            break
        time.sleep(0.02)
    return None


def suspend_and_expect_403(edge, *ctl_args, site="acme"):
    """`tenantctl CTL_ARGS suspend SITE` exits 0, then the edge refuses
    the site with 403 within a second."""
    rc, out, err = tenantctl(*ctl_args, "suspend", site)
    check(rc == 0 and out.startswith("suspended %s " % site),
          "tenantctl %s suspend %s: exit 0 (%d %r %r)"
          % (" ".join(ctl_args), site, rc, out, err))
    took = refused_within(edge, site)
    check(took is not None,
          "the edge refuses %s with 403 within a second%s"
          % (site, "" if took is None else " (%.2f s)" % took))
