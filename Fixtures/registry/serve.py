#!/usr/bin/env python3
"""A tiny HTTP(S) server for nepho's registry tests (test peer, not shipped).

Serves files under --root with ETag and Last-Modified, answers conditional requests
with 304, logs "METHOD PATH STATUS" lines to --log, writes its port to --port-file.
--cut sends half of each body and closes the connection; --auth makes every answer a 401 asking for a password (a server nepho must not prompt
for); --tls CERT KEY serves HTTPS.
"""
import argparse, email.utils, hashlib, http.server, os, ssl, sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--cut", action="store_true", help="announce the whole body, send half, close")
    parser.add_argument("--no-etag", action="store_true", help="send Last-Modified only")
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def record(self, status):
            with open(args.log, "a") as log:
                log.write(f"{self.command} {self.path} {status}\n")

        def answer(self, status, body=b"", headers=()):
            self.record(status)
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            if args.auth:
                return self.answer(401, b"login required\n", [("WWW-Authenticate", 'Basic realm="nepho-test"')])
            path = os.path.normpath(os.path.join(args.root, self.path.split("?")[0].lstrip("/")))
            if not path.startswith(os.path.abspath(args.root)) or not os.path.isfile(path):
                return self.answer(404, b"not found\n")
            with open(path, "rb") as f:
                body = f.read()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            modified = email.utils.formatdate(os.path.getmtime(path), usegmt=True)
            headers = [("ETag", etag), ("Last-Modified", modified), ("Content-Type", "application/json")]
            if args.no_etag:
                headers = headers[1:]
            if not args.no_etag and self.headers.get("If-None-Match") == etag:
                return self.answer(304, b"", headers[:2])
            if self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == modified:
                return self.answer(304, b"", [("Last-Modified", modified)])
            if args.cut:
                self.record(200)
                self.send_response(200)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.answer(200, body, headers)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
