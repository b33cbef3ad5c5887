"""Helpers for the TLS and HTTP/2 integration tests: certificates made at
test time with the openssl CLI, `openssl s_client` runs and what they
negotiated, TLS sockets, a python-h2 client that keeps flow control (for
normal requests and streamed bodies), and a raw frame writer for the
abuse patterns a conforming client library refuses to send.

Everything talks to loopback only, and every wait is bounded.

    from tls_helpers import Certs, tls_conf, s_client
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs), eu=eu.addr)
        r = s_client(edge.port, "-tls1_3", servername="acme.edge.test")
        check(r.ok and r.protocol == "TLSv1.3", "TLS 1.3 accepted")
"""

import hashlib
import os
import re
import select
import socket
import ssl
import subprocess
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame,
                              GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame)

from harness import TestFailure

OPENSSL = "openssl"
EDGE_NAMES = ("*.edge.test", "edge.test")
OTHER_NAMES = ("*.other.test", "other.test")


# ------------------------------------------------------------ certificates --

def openssl(args, timeout=60):
    """Run the openssl CLI; its output, or TestFailure naming the call."""
    p = subprocess.run([OPENSSL] + list(args), capture_output=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise TestFailure("openssl %s failed:\n%s" % (
            " ".join(args), (p.stdout + p.stderr).decode("utf-8",
                                                         "replace")))
    return p.stdout.decode("utf-8", "replace")


def make_cert(d, name, names, kind="rsa"):
    """A self-signed certificate for the DNS names `names` (the first is
    also the CN), with a new RSA 2048 or ECDSA P-256 key; returns
    (cert_path, key_path)."""
    crt = os.path.join(d, name + ".crt")
    key = os.path.join(d, name + ".key")
    if kind == "rsa":
        newkey = ["-newkey", "rsa:2048"]
    else:
        newkey = ["-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1"]
    san = ",".join("DNS:" + n for n in names)
    openssl(["req", "-x509"] + newkey + [
        "-nodes", "-keyout", key, "-out", crt, "-days", "2",
        "-subj", "/CN=" + names[0].replace("*.", ""),
        "-addext", "subjectAltName=" + san])
    return crt, key


def make_ticket_key(d, name):
    """An 80-byte session-ticket key file (openssl rand 80)."""
    path = os.path.join(d, name)
    openssl(["rand", "-out", path, "80"])
    return path


def pem_fingerprint(path):
    """SHA-256 of the DER of the first certificate in a PEM file."""
    with open(path) as f:
        return der_fingerprint(ssl.PEM_cert_to_DER_cert(
            first_pem(f.read())))


def der_fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def first_pem(text):
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  text, re.S)
    return m.group(0) + "\n" if m else None


class Certs:
    """What most TLS tests serve: an RSA and an ECDSA certificate for
    *.edge.test and edge.test, an RSA certificate for *.other.test and
    other.test, and three ticket-key files."""

    def __init__(self, d):
        self.dir = os.path.join(d, "tls")
        os.makedirs(self.dir, exist_ok=True)
        self.rsa = make_cert(self.dir, "edge-rsa", EDGE_NAMES, "rsa")
        self.ec = make_cert(self.dir, "edge-ec", EDGE_NAMES, "ec")
        self.other = make_cert(self.dir, "other-rsa", OTHER_NAMES, "rsa")
        self.tickets = [make_ticket_key(self.dir, "ticket%d.key" % i)
                        for i in (1, 2, 3)]

    def fp(self, pair):
        return pem_fingerprint(pair[0])


def tls_block(certs_or_pairs, *lines):
    """`tls { certificate CRT KEY; ... LINES }`: pairs in order (the first
    is the default), or a Certs object for rsa, ec, other."""
    if isinstance(certs_or_pairs, Certs):
        pairs = [certs_or_pairs.rsa, certs_or_pairs.ec,
                 certs_or_pairs.other]
    else:
        pairs = certs_or_pairs
    out = ["tls {"]
    out += ["    certificate %s %s;" % p for p in pairs]
    out += ["    %s" % line for line in lines]
    out.append("}")
    return "\n".join(out) + "\n"


TLS_CONF = """
workers 2;
listen {listen} tls;
zone z1;
domain edge.test;
log_level info;
upstream_read_timeout 10s;
upstream_connect_timeout 2s;
region eu { shard eu-1 { backend {eu} zone z1; } }
site acme shard eu-1 id t-0001;
"""


def tls_conf(certs, tls_lines=(), extra="", pairs=None):
    """The usual TLS edge: acme.edge.test (t-0001) on shard eu-1 behind a
    TLS listener, with the certificates of `certs` (or `pairs`) and the
    given extra lines inside tls { } and outside."""
    return (TLS_CONF + extra + "\n" +
            tls_block(pairs if pairs is not None else certs, *tls_lines))


def rewrite_conf(edge, text, **subst):
    """Replace a running edge's config file (for SIGHUP), with {listen}
    its own port and the other {name}s from subst, as env.edge does."""
    for k, v in subst.items():
        text = text.replace("{%s}" % k, str(v))
    text = text.replace("{listen}", "127.0.0.1:%d" % edge.port)
    tmp = edge.conf + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, edge.conf)


def sighup(edge, seconds=10.0):
    """SIGHUP the edge and wait (bounded) until its log says what became
    of the reload (a record mentioning "reload"); returns the log text
    written since the signal."""
    import signal
    mark = len(edge.output())
    edge.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = edge.output()[mark:]
        if any("reload" in m for _, m in log_records(new)):
            return new
        if edge.proc.poll() is not None:
            break
        time.sleep(0.05)
    return edge.output()[mark:]


def replace_file(path, data):
    """Put new bytes at path with a rename (readers never see half)."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


LOG_LINE = re.compile(r"^\S+Z (debug|info|notice|warn|error) (.*)$")


def log_records(text):
    """(level, message) of each record in a daemon's log text; lines of
    other shapes (sanitizer output) are left out."""
    out = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


# -------------------------------------------------------------- s_client --

class SClient:
    """One `openssl s_client` run and what it shows."""

    def __init__(self, argv, rc, out):
        self.argv = argv
        self.rc = rc
        self.out = out
        # "New, X, Cipher is Y": X is the cipher's version, not the
        # protocol; the session block's "Protocol  :" line is that (and
        # is printed on failures too, so it counts only with a cipher).
        m = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", out, re.M)
        self.reused = bool(m) and m.group(1) == "Reused"
        self.cipher = m.group(3) if m else None
        if self.cipher == "(NONE)":
            self.cipher = None
        m = re.search(r"^\s+Protocol\s*: (\S+)", out, re.M)
        self.protocol = m.group(1) if m and self.cipher else None
        if self.cipher and self.cipher.startswith("TLS_"):
            # a TLS 1.3 suite; s_client prints the session block only
            # once a ticket came, which may be after it left
            self.protocol = "TLSv1.3"
        m = re.search(r"^ALPN protocol: (\S+)", out, re.M)
        self.alpn = m.group(1) if m else None
        m = re.search(r"^Server Temp Key: ([^,\n]+)", out, re.M)
        self.temp_key = m.group(1).strip() if m else None
        pem = first_pem(out)
        self.cert_der = ssl.PEM_cert_to_DER_cert(pem) if pem else None
        self.fingerprint = (der_fingerprint(self.cert_der)
                            if self.cert_der else None)

    @property
    def ok(self):
        """A handshake completed (a protocol and a cipher were agreed)."""
        return self.protocol is not None and self.cipher is not None

    def brief(self):
        errs = [ln for ln in self.out.splitlines()
                if (":error:" in ln or "alert" in ln or
                    "errno=" in ln)]
        return ("rc=%s protocol=%s cipher=%s reused=%s %s"
                % (self.rc, self.protocol, self.cipher, self.reused,
                   (errs[0][:160] if errs else "")))


def s_client(port, *args, servername=None, request=None, timeout=20):
    """Run `openssl s_client -connect 127.0.0.1:PORT ARGS`. servername
    sets SNI (none sent without it). With request (bytes: an HTTP/1.1
    request, best with Connection: close) it is sent after the handshake
    and s_client reads until the server closes (so TLS 1.3 tickets and
    the response arrive); without it s_client leaves at once."""
    argv = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port]
    argv += ["-servername", servername] if servername else ["-noservername"]
    if request is not None:
        argv.append("-ign_eof")
    argv += list(args)
    try:
        p = subprocess.run(argv, input=request or b"", capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s did not finish within %d s"
                          % (" ".join(argv), timeout))
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    return SClient(argv, p.returncode, out)


def http_close_request(path="/", host="acme.edge.test"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
            % (path, host)).encode()


# ----------------------------------------------------------- TLS sockets --

def client_context(alpn=None, min_version=ssl.TLSVersion.TLSv1_2):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = min_version
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def tls_connect(port, sni="acme.edge.test", alpn=None, timeout=10.0):
    """A TLS client socket to 127.0.0.1:port (certificate not checked)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return client_context(alpn).wrap_socket(raw, server_hostname=sni)
    except Exception:
        raw.close()
        raise


def peer_fingerprint(sock):
    return der_fingerprint(sock.getpeercert(binary_form=True))


# ------------------------------------------------- python-h2 client side --

class H2Stream:
    def __init__(self, sink=None):
        self.status = None
        self.headers = {}            # lowercased name -> value (str)
        self.body = bytearray()
        self.sink = sink             # hashlib object: hash, do not keep
        self.length = 0
        self.ended = False
        self.reset = None            # error code of RST_STREAM

    def done(self):
        return self.ended or self.reset is not None

    def json(self):
        import json
        return json.loads(bytes(self.body).decode())


class H2Client:
    """An HTTP/2 client connection on python-h2: over TLS with ALPN h2, or
    cleartext with prior knowledge (tls=False). Flow control is kept:
    received DATA is acknowledged at once, bodies are sent as windows
    allow. Every wait has a deadline."""

    def __init__(self, port, tls=True, sni="acme.edge.test",
                 timeout=10.0, window=1 << 24):
        self.timeout = timeout
        if tls:
            self.sock = tls_connect(port, sni, alpn=["h2"], timeout=timeout)
            got = self.sock.selected_alpn_protocol()
            if got != "h2":
                self.sock.close()
                raise TestFailure("ALPN selected %r, not h2" % got)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port),
                                                 timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cfg = h2.config.H2Configuration(client_side=True,
                                        header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.local_settings = h2.settings.Settings(
            client=True, initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20,
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        self.conn.initiate_connection()
        if window > 65535:
            self.conn.increment_flow_control_window(window - 65535)
        self.streams = {}
        self.goaways = []            # (error_code, last_stream_id)
        self.server_settings = {}    # code -> value, as first sent
        self.settings_seen = False
        self.closed = False
        self.flush()

    # -- plumbing --------------------------------------------------------

    def flush(self):
        data = self.conn.data_to_send()
        if data and not self.closed:
            try:
                self.sock.sendall(data)
            except (OSError, ssl.SSLError):
                self.closed = True

    def pump(self, timeout):
        """Read and handle what arrives within `timeout` seconds (returns
        after the first read that brought something)."""
        if self.closed:
            return False
        pending = isinstance(self.sock, ssl.SSLSocket) and \
            self.sock.pending() > 0
        if not pending:
            r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
            if not r:
                return False
        try:
            data = self.sock.recv(1 << 20)
        except ssl.SSLWantReadError:
            return False
        except (OSError, ssl.SSLError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            raise TestFailure("the server broke HTTP/2: %s" % e)
        for ev in events:
            self.on_event(ev)
        self.flush()
        return True

    def on_event(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            if not self.settings_seen:
                self.settings_seen = True
                for code, ch in ev.changed_settings.items():
                    self.server_settings[int(code)] = ch.new_value
        elif isinstance(ev, (h2.events.ResponseReceived,
                             h2.events.InformationalResponseReceived,
                             h2.events.TrailersReceived)):
            st = self.streams.setdefault(ev.stream_id, H2Stream())
            hd = {k.lower(): v for k, v in ev.headers}
            if isinstance(ev, h2.events.ResponseReceived):
                st.status = int(hd[":status"])
                st.headers = hd
        elif isinstance(ev, h2.events.DataReceived):
            st = self.streams.setdefault(ev.stream_id, H2Stream())
            if st.sink is not None:
                st.sink.update(ev.data)
            else:
                st.body += ev.data
            st.length += len(ev.data)
            if ev.flow_controlled_length:
                self.conn.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.streams.setdefault(ev.stream_id, H2Stream()).ended = True
        elif isinstance(ev, h2.events.StreamReset):
            self.streams.setdefault(ev.stream_id, H2Stream()).reset = \
                ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaways.append((ev.error_code, ev.last_stream_id))

    def wait_settings(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.settings_seen and not self.closed and \
                time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())
        return self.settings_seen

    def wait(self, sids, timeout=None):
        """Until every stream in sids ended or was reset, the connection
        closed, or the deadline; True when all are done."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if all(s in self.streams and self.streams[s].done()
                   for s in sids):
                return True
            if self.closed:
                return False
            self.pump(min(0.5, deadline - time.monotonic()))
        return all(s in self.streams and self.streams[s].done()
                   for s in sids)

    # -- requests --------------------------------------------------------

    def start(self, method, path, authority="acme.edge.test",
              headers=(), end_stream=True, scheme=None, sink=None):
        """Send a request head; returns its stream id."""
        sid = self.conn.get_next_available_stream_id()
        scheme = scheme or ("https" if isinstance(self.sock, ssl.SSLSocket)
                            else "http")
        hdrs = [(":method", method), (":scheme", scheme),
                (":authority", authority), (":path", path)]
        hdrs += list(headers)
        self.streams[sid] = H2Stream(sink)
        self.conn.send_headers(sid, hdrs, end_stream=end_stream)
        self.flush()
        return sid

    def send_body(self, sid, chunks, deadline):
        """Send an iterable of bytes on sid as flow control allows, then
        END_STREAM. False when the deadline passed or the stream or
        connection ended first."""
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                if time.monotonic() > deadline or self.closed:
                    return False
                st = self.streams[sid]
                if st.reset is not None:
                    return False
                window = min(self.conn.local_flow_control_window(sid),
                             self.conn.max_outbound_frame_size)
                if window <= 0:
                    self.pump(0.5)
                    continue
                n = min(window, len(view))
                self.conn.send_data(sid, view[:n].tobytes())
                view = view[n:]
                self.flush()
                # take what the server sent (window updates) without
                # waiting
                while self.pump(0):
                    pass
        self.conn.end_stream(sid)
        self.flush()
        return True

    def request(self, method, path, authority="acme.edge.test",
                headers=(), body=None, timeout=None):
        sid = self.start(method, path, authority, headers,
                         end_stream=body is None)
        deadline = time.monotonic() + (timeout or self.timeout)
        if body is not None:
            self.send_body(sid, [body], deadline)
        self.wait([sid], max(deadline - time.monotonic(), 0.1))
        return self.streams[sid]

    def get(self, path, authority="acme.edge.test", headers=(),
            timeout=None):
        return self.request("GET", path, authority, headers, None, timeout)

    def close(self):
        if not self.closed:
            try:
                self.conn.close_connection()
                self.flush()
            except Exception:               # noqa: BLE001
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


def h2_get(port, path, tls=True, authority="acme.edge.test", headers=(),
           timeout=10.0):
    """One GET on a new HTTP/2 connection; returns the H2Stream."""
    c = H2Client(port, tls=tls, timeout=timeout)
    try:
        return c.get(path, authority, headers, timeout)
    finally:
        c.close()


# ------------------------------------------------------ raw frames (abuse) --

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def code_name(code):
    try:
        return ErrorCodes(code).name
    except ValueError:
        return "0x%x" % code


class RawH2:
    """A hand-driven HTTP/2 client: frames from hyperframe, header blocks
    from hpack, no checks of its own, so that it can send what a
    conforming client never would. Counts what the server sends back."""

    def __init__(self, port, tls=True, sni="acme.edge.test",
                 timeout=10.0):
        if tls:
            self.sock = tls_connect(port, sni, alpn=["h2"], timeout=timeout)
            if self.sock.selected_alpn_protocol() != "h2":
                raise TestFailure("ALPN did not select h2")
        else:
            self.sock = socket.create_connection(("127.0.0.1", port),
                                                 timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.scheme = "https" if tls else "http"
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.buf = bytearray()
        self.goaway = None           # (code, last_stream_id, debug)
        self.goaways = []            # every GOAWAY, in order
        self.goaway_after = None     # frames we had sent when it came
        self.closed = False
        self.close_reason = None
        self.frames_sent = 0
        self.counts = {}             # frame type name -> received
        self.rst = {}                # stream id -> error code
        self.status = {}             # stream id -> :status
        self.ended = set()           # stream ids with END_STREAM seen
        self.data = {}               # stream id -> body bytes (if kept)
        self.keep_data = False
        self.server_settings = None
        self.pending = None
        self.send(PREFACE + SettingsFrame(0, settings={
            2: 0, 4: 1 << 20}).serialize() +
            WindowUpdateFrame(0, window_increment=1 << 24).serialize(),
            frames=0)

    def send(self, data, frames=1):
        if self.closed:
            return False
        try:
            self.sock.sendall(data)
            self.frames_sent += frames
            return True
        except (OSError, ssl.SSLError) as e:
            self.mark_closed("send: %s" % e)
            return False

    def mark_closed(self, why):
        if not self.closed:
            self.closed = True
            self.close_reason = why

    def block(self, headers):
        return self.enc.encode([(n.encode() if isinstance(n, str) else n,
                                 v.encode() if isinstance(v, str) else v)
                                for n, v in headers], huffman=False)

    def headers_frame(self, sid, block, end_stream=True,
                      end_headers=True):
        flags = []
        if end_headers:
            flags.append("END_HEADERS")
        if end_stream:
            flags.append("END_STREAM")
        return HeadersFrame(sid, data=block, flags=flags).serialize()

    def request_block(self, path, method="GET",
                      authority="acme.edge.test", extra=()):
        return self.block([(":method", method), (":scheme", self.scheme),
                           (":authority", authority), (":path", path)]
                          + list(extra))

    def pump(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = max(deadline - time.monotonic(), 0)
            pending = isinstance(self.sock, ssl.SSLSocket) and \
                self.sock.pending() > 0
            if not pending:
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return
            try:
                data = self.sock.recv(1 << 16)
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError) as e:
                self.mark_closed("recv: %s" % e)
                return
            if not data:
                self.mark_closed("peer closed")
                return
            self.buf += data
            self.parse()
            if left <= 0:
                return

    def parse(self):
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                return
            try:
                f, _ = Frame.parse_frame_header(
                    memoryview(bytes(self.buf[:9])))
                f.parse_body(memoryview(bytes(self.buf[9:9 + length])))
            except Exception as e:                   # noqa: BLE001
                self.mark_closed("unparseable frame: %s" % e)
                return
            del self.buf[:9 + length]
            self.on_frame(f)

    def on_frame(self, f):
        name = type(f).__name__
        if "ACK" in getattr(f, "flags", ()):
            name += "+ACK"
        self.counts[name] = self.counts.get(name, 0) + 1
        if isinstance(f, SettingsFrame) and "ACK" not in f.flags:
            if self.server_settings is None:
                self.server_settings = dict(f.settings)
            self.send(SettingsFrame(0, flags=["ACK"]).serialize(), 0)
        elif isinstance(f, GoAwayFrame):
            self.goaways.append((f.error_code, f.last_stream_id))
            if self.goaway is None or f.error_code != 0:
                self.goaway = (f.error_code, f.last_stream_id,
                               bytes(f.additional_data[:200]))
                self.goaway_after = self.frames_sent
        elif isinstance(f, RstStreamFrame):
            self.rst[f.stream_id] = f.error_code
        elif isinstance(f, (HeadersFrame, ContinuationFrame)):
            if isinstance(f, HeadersFrame):
                self.pending = [f.stream_id, bytes(f.data),
                                "END_STREAM" in f.flags]
            elif self.pending:
                self.pending[1] += bytes(f.data)
            if "END_HEADERS" in f.flags and self.pending:
                sid, blk, end = self.pending
                self.pending = None
                try:
                    for n, v in self.dec.decode(blk, raw=True):
                        if n == b":status":
                            self.status[sid] = int(v)
                except Exception as e:               # noqa: BLE001
                    self.mark_closed("bad header block: %s" % e)
                if end:
                    self.ended.add(sid)
        elif isinstance(f, DataFrame):
            if self.keep_data:
                self.data.setdefault(f.stream_id, bytearray()).extend(
                    f.data)
            n = f.flow_controlled_length
            if n:
                self.send(WindowUpdateFrame(0, window_increment=n)
                          .serialize() +
                          WindowUpdateFrame(f.stream_id, window_increment=n)
                          .serialize(), 0)
            if "END_STREAM" in f.flags:
                self.ended.add(f.stream_id)

    def cut_off(self):
        return self.goaway is not None or self.closed

    def flood(self, make_batch, total, batch=100, seconds=5.0, pace=0.01):
        """Send frames from make_batch(first_index, count) -> (bytes,
        frames) until total frames went out, `seconds` passed, or the
        server ended the connection; pace seconds of reading between
        batches. Returns frames sent by this flood."""
        sent, start = 0, time.monotonic()
        while sent < total and time.monotonic() - start < seconds:
            n = min(batch, total - sent)
            data, frames = make_batch(sent, n)
            if not self.send(data, frames):
                break
            sent += frames
            self.pump(pace)
            if self.cut_off():
                break
        return sent

    def wait_end(self, timeout=2.0):
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.pump(min(0.2, max(deadline - time.monotonic(), 0)))

    def goaway_name(self):
        return code_name(self.goaway[0]) if self.goaway else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


__all__ = ["Certs", "make_cert", "make_ticket_key", "pem_fingerprint",
           "der_fingerprint", "tls_block", "tls_conf", "TLS_CONF",
           "rewrite_conf", "replace_file", "sighup", "log_records", "s_client",
           "SClient", "http_close_request", "client_context", "tls_connect",
           "peer_fingerprint", "H2Client", "H2Stream", "h2_get", "RawH2",
           "code_name", "openssl", "EDGE_NAMES", "OTHER_NAMES",
           "ContinuationFrame", "DataFrame", "HeadersFrame", "PingFrame",
           "RstStreamFrame", "SettingsFrame", "WindowUpdateFrame",
           "GoAwayFrame", "ErrorCodes"]
