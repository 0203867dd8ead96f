#!/usr/bin/env python3
"""A tiny HTTP(S) server for nepho's registry tests (test peer, not shipped).

Serves files under --root with ETag and Last-Modified, answers conditional requests
with 304, logs "METHOD PATH STATUS" lines to --log, writes its port to --port-file.
--cut sends half of each body and closes the connection; --auth makes every answer a 401 asking for a password (a server nepho must not prompt
for); --tls CERT KEY serves HTTPS; --git serves the repositories under --root with git's
smart HTTP protocol (git http-backend), so that clones and fetches show git's progress.
"""
import argparse, email.utils, hashlib, http.server, os, ssl, subprocess, sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--cut", action="store_true", help="announce the whole body, send half, close")
    parser.add_argument("--no-etag", action="store_true", help="send Last-Modified only")
    parser.add_argument("--git", action="store_true", help="git's smart HTTP (git http-backend)")
    args = parser.parse_args()
    backend = None
    if args.git:
        exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip()
        backend = os.path.join(exec_path, "git-http-backend")

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

        def do_POST(self):
            self.git_backend()

        def git_backend(self):
            """Runs git http-backend as a CGI program for this request."""
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": os.path.abspath(args.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type") or "",
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_PROTOCOL": self.headers.get("Git-Protocol") or "",
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers.get("Content-Encoding")
            out = subprocess.run([backend], input=body, capture_output=True, env=env).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = out.partition(b"\n\n")
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                elif key:
                    headers.append((key.strip(), value.strip()))
            self.answer(status, payload, headers)

        def do_GET(self):
            if args.git:
                return self.git_backend()
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
