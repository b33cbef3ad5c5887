"""A module built out of tree, against nothing but what `make install`
installs (the headers and tenantedge.pc), loads with load_module and
runs: its top-level directive and its block configure it, its policy
handler refuses a path and its response handler adds a field. A module
built for another ABI is refused at load with both ABI numbers named.
When the tree was configured with --enable-dynamic-modules, the in-tree
modules were installed as loadable objects too, and one of them loads
in place of its built-in twin."""
import os
import shutil
import subprocess
import tempfile
from harness import Env, check, main, BUILDDIR, SRCDIR, TENANTEDGE

HELLO = os.path.join(SRCDIR, "tests", "out-of-tree", "hello.c")


def run(argv, env=None):
    p = subprocess.run(argv, capture_output=True, timeout=300, env=env)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def make_install(dest):
    """`make install-data DESTDIR=dest` from the build tree: the rules of
    `make install` for the headers, tenantedge.pc and the loadable
    modules, without its dependency on `all`, so that it never relinks
    the daemon under the tests running beside this one. Outside any make
    that runs this test (its jobserver is not ours)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKE")}
    return run(["make", "-C", BUILDDIR, "install-data", "DESTDIR=" + dest],
               env)


def find(top, name):
    for d, _, files in os.walk(top):
        if name in files:
            return os.path.join(d, name)
    return None


def pkg_config(dest, pcdir, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir,
               PKG_CONFIG_SYSROOT_DIR=dest, PKG_CONFIG_LIBDIR=pcdir)
    rc, out = run(["pkg-config"] + list(args) + ["tenantedge"], env)
    check(rc == 0, "pkg-config %s tenantedge works (%s)"
          % (" ".join(args), out.strip()))
    return out.strip()


def build(cflags, out, *defines):
    rc, text = run(["cc", "-shared", "-fPIC", "-Wall", "-Werror"]
                   + cflags.split() + list(defines) + ["-o", out, HELLO])
    check(rc == 0, "%s builds out of tree" % os.path.basename(out)
          + ("" if rc == 0 else ":\n" + text[-2000:]))


def test():
    tmp = tempfile.mkdtemp(prefix="te-oot-")
    try:
        dest = os.path.join(tmp, "dest")
        rc, out = make_install(dest)
        check(rc == 0, "make install-data DESTDIR=... succeeds"
              + ("" if rc == 0 else ":\n" + out[-2000:]))
        pc = find(dest, "tenantedge.pc")
        check(pc is not None, "tenantedge.pc is installed")
        for h in ("module.h", "status.h", "tcs.h"):
            check(find(dest, h) is not None, "tenantedge/%s is installed" % h)

        cflags = pkg_config(dest, os.path.dirname(pc), "--cflags")
        check(dest in cflags, "the include path is the installed one")
        moduledir = pkg_config(dest, os.path.dirname(pc),
                               "--variable=moduledir")

        hello = os.path.join(tmp, "hello.so")
        bad = os.path.join(tmp, "hello-abi999.so")
        build(cflags, hello)
        build(cflags, bad, "-DHELLO_ABI=999")
        with_modules(tmp, hello, bad, moduledir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def with_modules(tmp, hello, bad, moduledir):
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge("""
            workers 1;
            listen {listen};
            domain edge.test;
            region eu { shard eu-1 { backend {eu} zone z1; } }
            site acme shard eu-1 id t-acme;
            load_module %s;
            hello_refuse /private/;
            module hello { greeting hi; }
            chain tenant policy hello route;
        """ % hello, eu=eu.addr)

        r = edge.get("/public", host="acme.edge.test")
        check(r.status == 200, "a request the module lets through is served")
        check(r.headers.get("x-hello") == "hi t-acme",
              "the module's response handler ran, configured by its block "
              "(X-hello: %r)" % r.headers.get("x-hello"))

        r = edge.get("/private/x", host="acme.edge.test")
        check(r.status == 403 and r.json()["error"] == "hello refuses t-acme",
              "the module's policy handler refused /private/ (%r)" % r)
        check(r.json().get("request_id") == r.headers.get("x-request-id"),
              "with the request id in the body")
        check(r.headers.get("x-hello") == "hi t-acme",
              "response handlers run on module answers too")
        check(r.headers.get("x-hello-count") == "2",
              "the module's per-worker state counts the worker's answers "
              "(%r)" % r.headers.get("x-hello-count"))
        check([h["path"] for h in eu.heads()] == ["/public"],
              "the refused request never reached the backend")
        env.stop_edge(edge)

    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("listen 127.0.0.1:1;\n"
                "load_module %s;\n" % bad)
    rc, out = run([TENANTEDGE, "-t", "-c", conf])
    check(rc == 1, "a module built for another ABI is refused (exit 1)")
    want = ("%s:2:13: module \"%s\" was built for module ABI 999, this "
            "tenantedge has module ABI 1" % (conf, bad))
    check(want in out, "the error names file:line:col and both ABI numbers "
          "(%s)" % out.strip())

    # --enable-dynamic-modules: the in-tree modules are installed too
    route = find(os.path.join(tmp, "dest"), "route.so")
    if route is None:
        print("ok - no in-tree loadable modules (not configured with "
              "--enable-dynamic-modules)")
        return
    check(os.path.dirname(route).endswith(moduledir),
          "in-tree modules are installed in the pc file's moduledir")
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        edge = env.edge("""
            listen {listen};
            domain edge.test;
            region eu { shard eu-1 { backend {eu} zone z1; } }
            site acme shard eu-1;
            load_module %s;
        """ % route, eu=eu.addr)
        r = edge.get("/x", host="acme.edge.test")
        check(r.status == 200 and r.json()["shard"] == "eu-1",
              "the loadable route module routes in place of the built-in")
        r = edge.get("/x", host="nobody.edge.test")
        check(r.status == 404, "and the rest of the chain still works")
        env.stop_edge(edge)


main(test)
