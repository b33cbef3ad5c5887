"""HTTP/2 requests pass through the same chain and upstream as HTTP/1.1:
`curl --http2` and `nghttp` on the TLS listener (ALPN h2) and `curl
--http2-prior-knowledge` on a cleartext listener with `h2c on` get the
backend's 200; the backend (HTTP/1.1) sees Host from :authority, the
tenant fields the chain adds, X-Forwarded-Proto https (http on h2c) and
split cookie fields joined with "; "; bodies pass intact both ways; an
unknown site gets the chain's 404. An HTTP/1.1 client on the same TLS
listener (ALPN http/1.1) is served too."""
import hashlib
import json
import re
import subprocess
import time

from hyperframe.frame import DataFrame

from harness import Env, check, free_port, main, pattern_sha256, wait_port
from tls_helpers import Certs, H2Client, RawH2, tls_conf

EXTRA = "listen 127.0.0.1:{plain};\nh2c on;\n"


def curl(args, timeout=30):
    """curl -s ARGS; returns (body, http_version, http_code)."""
    p = subprocess.run(["curl", "-s", "-o", "-", "-w",
                        "%{stderr}%{http_version} %{http_code}"] + args,
                       capture_output=True, timeout=timeout)
    parts = p.stderr.decode().split()
    if p.returncode != 0 or len(parts) < 2:
        return p.stdout, None, "curl rc=%d %s" % (p.returncode,
                                                  p.stderr.decode())
    return p.stdout, parts[-2], parts[-1]


def backend_view(body):
    try:
        return json.loads(body.decode())
    except ValueError:
        return {}


def check_chain(view, what, proto, path, authority="acme.edge.test"):
    h = view.get("headers", {})
    check(view.get("shard") == "eu-1" and view.get("path") == path,
          "%s: the request reached acme's shard as %s (%r)"
          % (what, path, view.get("path")))
    check(view.get("version") == "HTTP/1.1",
          "%s: the backend was spoken to in HTTP/1.1" % what)
    check(h.get("host") == authority,
          "%s: Host is the :authority %s (%r)" % (what, authority,
                                                 h.get("host")))
    check(h.get("x-tenant-id") == "t-0001" and
          h.get("x-tenant-site") == "acme",
          "%s: the chain added the tenant fields" % what)
    check(h.get("x-forwarded-proto") == proto,
          "%s: X-Forwarded-Proto %s (%r)"
          % (what, proto, h.get("x-forwarded-proto")))
    check(h.get("x-forwarded-for") == "127.0.0.1",
          "%s: X-Forwarded-For is the client" % what)


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        plain = free_port()
        edge = env.edge(tls_conf(certs, extra=EXTRA), eu=eu.addr,
                        plain=plain)
        check(wait_port(plain, edge.proc), "the h2c listener is up")
        host = "acme.edge.test"
        url = "https://%s:%d" % (host, edge.port)
        resolve = ["--resolve", "%s:%d:127.0.0.1" % (host, edge.port),
                   "--resolve", "%s:%d:127.0.0.1" % (host, plain),
                   "--resolve", "nobody.edge.test:%d:127.0.0.1" % edge.port]

        body, ver, code = curl(["-k", "--http2"] + resolve +
                               [url + "/h2/curl"])
        check(ver == "2" and code == "200",
              "curl --http2 negotiates h2 by ALPN and gets 200 (%s %s)"
              % (ver, code))
        check_chain(backend_view(body), "curl --http2", "https", "/h2/curl",
                    "%s:%d" % (host, edge.port))

        body, ver, code = curl(["-k", "--http2", "--data-binary",
                                "hello=world"] + resolve +
                               [url + "/h2/post"])
        view = backend_view(body)
        check(code == "200" and view.get("method") == "POST" and
              view.get("body_length") == 11,
              "curl's h2 POST reaches the backend with its body (%s)"
              % code)

        p = subprocess.run(["nghttp", "-v", "-H", ":authority: " + host,
                            "https://127.0.0.1:%d/h2/nghttp" % edge.port],
                           capture_output=True, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        m = re.search(r":status: (\d+)", out)
        check(p.returncode == 0 and m and m.group(1) == "200",
              "nghttp gets 200 (rc=%d %s)" % (p.returncode,
                                             m and m.group(0)))
        at = out.find('{"shard"')
        try:
            view = json.JSONDecoder().raw_decode(out[at:])[0] \
                if at >= 0 else {}
        except ValueError:
            view = {}
        check_chain(view, "nghttp", "https", "/h2/nghttp")

        c = H2Client(edge.port)
        st = c.get("/h2/cookies", headers=[("cookie", "a=1"),
                                           ("cookie", "b=2"),
                                           ("cookie", "c=3"),
                                           ("x-custom", "kept")])
        check(st.status == 200, "python-h2: 200 (%r)" % st.status)
        view = st.json()
        check_chain(view, "python-h2", "https", "/h2/cookies")
        h = view["headers"]
        check(h.get("cookie") == "a=1; b=2; c=3",
              "split cookie fields arrive joined with '; ' (%r)"
              % h.get("cookie"))
        check(h.get("x-custom") == "kept", "other fields pass")
        check(st.headers.get("x-shard") == "eu-1",
              "the backend's response fields reach the h2 client")

        payload = bytes(range(256)) * 4096 + b"tail"
        st = c.request("POST", "/h2/upload", body=payload,
                       headers=[("content-length", str(len(payload)))])
        view = st.json() if st.status == 200 else {}
        check(view.get("body_length") == len(payload) and
              view.get("body_sha256") ==
              hashlib.sha256(payload).hexdigest(),
              "a 1 MiB request body arrives intact (%r)" % st.status)
        st = c.get("/h2/dl?size=3m&chunked=1")
        check(st.status == 200 and st.length == 3 << 20 and
              hashlib.sha256(st.body).hexdigest() ==
              pattern_sha256(3 << 20),
              "a 3 MiB chunked response arrives intact over h2")
        st = c.get("/h2/nobody", authority="nobody.edge.test")
        check(st.status == 404, "an unknown site gets the chain's 404 over "
              "h2 (%r)" % st.status)
        c.close()

        body, ver, code = curl(["-k", "--http1.1"] + resolve +
                               [url + "/h1/tls"])
        check(ver == "1.1" and code == "200",
              "an HTTP/1.1 client on the TLS listener is served (%s %s)"
              % (ver, code))
        check_chain(backend_view(body), "HTTP/1.1 over TLS", "https",
                    "/h1/tls", "%s:%d" % (host, edge.port))

        purl = "http://%s:%d" % (host, plain)
        body, ver, code = curl(["--http2-prior-knowledge"] + resolve +
                               [purl + "/h2c/pk"])
        check(ver == "2" and code == "200",
              "curl --http2-prior-knowledge on the h2c listener gets 200 "
              "over h2 (%s %s)" % (ver, code))
        check_chain(backend_view(body), "h2c", "http", "/h2c/pk",
                    "%s:%d" % (host, plain))
        c = H2Client(plain, tls=False)
        st = c.get("/h2c/cookies", headers=[("cookie", "x=1"),
                                            ("cookie", "y=2")])
        check(st.status == 200 and
              st.json()["headers"].get("cookie") == "x=1; y=2",
              "h2c: cookies joined too")
        c.close()
        body, ver, code = curl(["--http1.1"] + resolve + [purl + "/h1"])
        check(ver == "1.1" and code == "200",
              "HTTP/1.1 on the h2c listener still works (%s %s)"
              % (ver, code))

        # A body shorter than its content-length: nghttp2 resets the
        # stream; the access line blames the request (400), not the
        # client leaving (499).
        raw = RawH2(edge.port)
        raw.send(raw.headers_frame(1, raw.request_block(
            "/h2/short-body", method="POST",
            extra=[("content-length", "5")]), end_stream=False) +
            DataFrame(1, data=b"abc", flags=["END_STREAM"]).serialize())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and 1 not in raw.rst and \
                not raw.closed:
            raw.pump(0.2)
        raw.close()
        check(1 in raw.rst, "a body shorter than content-length: reset")
        time.sleep(0.3)
        line = [x for x in edge.output().splitlines()
                if "/h2/short-body" in x]
        check(line and " 400 " in line[-1] and " 499 " not in line[-1],
              "and logged as 400 (%r)" % line[-1:])

        env.stop_edge(edge)


main(test)
