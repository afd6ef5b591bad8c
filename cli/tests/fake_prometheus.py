"""A hostile or broken Prometheus API on 127.0.0.1, for cli/tests/hostile.rs. The test starts it
as its own process, reads the port from its first line of output, and stops it by PID. Every
request is reported on stdout as one JSON line (method, path, form, authorization).

Modes (argv[1]):
  series <label-bytes>  one series whose `route` label is that long, with a healthy sawtooth
  huge                  the series list, then a query answer that never ends (1 GiB and more)
  hang                  accepts every connection, reads the request, never answers
  hostile               labels and error texts with terminal escapes, bidi controls, 1 MB text
  html                  answers every request with an HTML page (not a Prometheus API)

With FAKE_TLS_CERT and FAKE_TLS_KEY set (PEM files), it serves HTTPS.
"""

import json
import os
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
LABEL_BYTES = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else 16
START = 1_700_000_000
ESC = "\x1b[31mRED\x1b[0m\x07\x9b2J\u202etxt.exe"


def series_labels():
    route = "r" * LABEL_BYTES if MODE == "series" else "/x" + ESC
    return {"__name__": "heap", "job": "api", "route": route}


def sawtooth():
    # 6 h of 15 s samples, a flat GC sawtooth: healthy.
    return [[START + 15 * i, str(100e6 + 20e6 * (i % 20) / 19)] for i in range(6 * 240)]


def report(handler, form):
    line = {
        "method": handler.command,
        "path": handler.path,
        "form": form,
        "authorization": handler.headers.get("Authorization"),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_api({})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self.handle_api(form)

    def handle_api(self, form):
        report(self, {k: [v[:64] for v in vs] for k, vs in form.items()})
        path = self.path.split("?")[0]
        if MODE == "html":
            self.send(200, "<html>hi</html>")
        elif not path.startswith("/api/v1/"):
            self.send(404, "not found")
        elif MODE == "hostile" and path.endswith("/query"):
            text = ESC + "x" * 1_000_000
            self.send(400, json.dumps({"status": "error", "errorType": "bad_data", "error": text}))
        elif path.endswith("/series"):
            self.send(200, json.dumps({"status": "success", "data": [series_labels()]}))
        elif MODE == "huge" and path.endswith("/query"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            head = '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":['
            chunk = ('[1700000000,"1"],' * 65536).encode()
            try:
                self.wfile.write(head.encode())
                for _ in range((1 << 30) // len(chunk) + 1):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path.endswith("/query"):
            result = [{"metric": series_labels(), "values": sawtooth()}]
            body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
            self.send(200, json.dumps(body))
        else:
            self.send(404, "not found")


def hang(listener):
    held = []
    while True:
        conn, _ = listener.accept()
        conn.recv(65536)
        report_hang()
        held.append(conn)


def report_hang():
    sys.stdout.write(json.dumps({"method": "held"}) + "\n")
    sys.stdout.flush()


def main():
    if MODE == "hang":
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        print(listener.getsockname()[1], flush=True)
        hang(listener)
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if os.environ.get("FAKE_TLS_CERT"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.environ["FAKE_TLS_CERT"], os.environ["FAKE_TLS_KEY"])
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
