"""`tenantedge -t` refuses a tenants file (tcs { store file; }) whose
record names a shard that no region block declares, or one declared in
another region than the record's: it exits 1 with file:line:col of the
`file` directive, the tenants file, the record and the shard, and the
daemon does not start (instead of answering 503 for that tenant later).
The same file with the shards where they belong passes."""
import json
import os
import shutil
import subprocess
import tempfile

from chain_helpers import tenant
from harness import TENANTEDGE, check, main

CONF = """listen 127.0.0.1:1;
domain edge.test;
region eu { shard eu-1 { backend 127.0.0.1:2 zone z1; } }
region us { shard us-1 { backend 127.0.0.1:3 zone z1; } }
product jira /jira/;
tcs {
    store file;
    file tenants.json;
}
"""

CASES = [
    ("a product on a shard in no region",
     tenant("beta", "t-beta", products={"jira": ("active", "eu-9")}),
     'tenants[1] (site "beta"): product jira shard "eu-9" is in no '
     'region block'),
    ("a product on a shard of another region",
     tenant("beta", "t-beta", products={"jira": ("active", "us-1")}),
     'tenants[1] (site "beta"): product jira shard "us-1" is in region '
     '"us", not in the record\'s region "eu"'),
    ("a default shard of another region",
     tenant("beta", "t-beta", region="us", shard="eu-1",
            products={"jira": ("active", "us-1")}),
     'tenants[1] (site "beta"): shard "eu-1" is in region "eu", not in '
     'the record\'s region "us"'),
]

GOOD = tenant("acme", "t-acme", products={"jira": ("active", "eu-1")})


def run(args):
    p = subprocess.run([TENANTEDGE] + args, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    return p.returncode, (p.stdout + p.stderr).decode()


def write_tenants(d, records):
    with open(os.path.join(d, "tenants.json"), "w") as f:
        json.dump({"tenants": records}, f)


def test():
    d = tempfile.mkdtemp(prefix="te-shards-")
    try:
        conf = os.path.join(d, "edge.conf")
        with open(conf, "w") as f:
            f.write(CONF)
        tenants = os.path.join(d, "tenants.json")

        for name, record, reason in CASES:
            write_tenants(d, [GOOD, record])
            rc, out = run(["-t", "-c", conf])
            want = '%s:8:5: tenants file "%s": %s' % (conf, tenants, reason)
            check(rc == 1 and want in out,
                  "%s: -t exits 1 and says %r (%d %r)"
                  % (name, want, rc, out.strip()))
            rc, out = run(["-c", conf])
            check(rc == 1 and reason in out,
                  "%s: the daemon does not start (%d)" % (name, rc))

        write_tenants(d, [GOOD, tenant("beta", "t-beta", region="us",
                                       shard="us-1",
                                       products={"jira": ("active", "us-1")})])
        rc, out = run(["-t", "-c", conf])
        check(rc == 0 and "valid" in out,
              "every shard in its record's region: -t passes (%r)"
              % out.strip())
    finally:
        shutil.rmtree(d, ignore_errors=True)


main(test)
