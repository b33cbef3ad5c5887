"""A large upload and a large download pass through intact (SHA-256
compared end to end) while the proxy's peak RSS stays under 64 MiB: bodies
are streamed with backpressure, never buffered whole. 1 GiB each way on
the normal build; under the sanitizers (which inflate memory and time)
128 MiB each way, checked for integrity only."""
import hashlib
import os
import socket
from harness import (Env, check, main, two_regions, read_response,
                     pattern_sha256, rss_peak_kib, SANITIZERS)

SIZE = (128 << 20) if SANITIZERS else (1 << 30)


def upload(edge, size):
    s = edge.connect(timeout=120)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: acme.edge.test\r\n"
              b"Content-Length: %d\r\n\r\n" % size)
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    sent = 0
    while sent < size:
        piece = block[:min(len(block), size - sent)]
        s.sendall(piece)
        h.update(piece)
        sent += len(piece)
    r = read_response(s)
    s.close()
    return r, h.hexdigest()


def download(edge, size):
    s = edge.connect(timeout=120)
    s.sendall(b"GET /?size=%d HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n"
              % size)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    h = hashlib.sha256(rest)
    got = len(rest)
    while got < size:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
    s.close()
    return head, got, h.hexdigest()


def test():
    with Env() as env:
        edge, eu, us = two_regions(env, "client_max_body_size 2g;\n")
        r, digest = upload(edge, SIZE)
        check(r.status == 200, "upload of %d MiB answered 200" % (SIZE >> 20))
        body = r.json()
        check(body["body_length"] == SIZE and body["body_sha256"] == digest,
              "the backend received the upload intact (SHA-256 matches)")

        head, got, digest = download(edge, SIZE)
        check(head.startswith(b"HTTP/1.1 200"), "download answered 200")
        check(got == SIZE, "download of %d MiB complete" % (SIZE >> 20))
        check(digest == pattern_sha256(SIZE),
              "the download arrived intact (SHA-256 matches)")

        if not SANITIZERS:
            peak = rss_peak_kib(edge.pid)
            check(0 < peak < 64 * 1024,
                  "peak RSS %d KiB stayed under 64 MiB" % peak)


main(test)
