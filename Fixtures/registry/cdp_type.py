#!/usr/bin/env python3
"""Types into a page in headless Chromium over the DevTools protocol (test peer).

Usage: cdp_type.py CHROMIUM PAGE_URL TEXT SCREENSHOT_PNG PROFILE_DIR

Starts Chromium with --remote-debugging-port=0, opens PAGE_URL, focuses #search and
types TEXT with real key events (Input.dispatchKeyEvent, one key at a time), then
prints a JSON object: the names of the visible cloudlets after each whole word and at
the end, and the #count text. Saves a screenshot to SCREENSHOT_PNG. Only the Python
standard library: a minimal WebSocket client is below.
"""
import base64, json, os, re, socket, struct, subprocess, sys, time, urllib.request


class WebSocket:
    def __init__(self, url):
        match = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(4096)
        if b" 101 " not in response.split(b"\r\n")[0]:
            raise RuntimeError("WebSocket handshake failed: %r" % response[:200])
        self.buffer = response.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("DevTools connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        self.sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    return json.loads(message)
            elif opcode == 0x8:
                raise RuntimeError("DevTools connection closed")

    def call(self, method, **params):
        self.next_id += 1
        self.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self.receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")


def main():
    chromium, page_url, text, screenshot, profile = sys.argv[1:6]
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
         "--window-size=1100,800", "--hide-scrollbars", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 120
        while port is None and time.time() < deadline:
            line = browser.stderr.readline()
            if not line:
                raise RuntimeError("chromium exited before DevTools listened")
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if match:
                port = int(match.group(1))
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=60))
        page = next(t for t in targets if t.get("type") == "page")
        ws = WebSocket(page["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Page.navigate", url=page_url)
        for _ in range(600):
            if ws.evaluate("document.readyState === 'complete' && !!document.getElementById('search')"):
                break
            time.sleep(0.05)
        visible = ("Array.prototype.filter.call(document.querySelectorAll('#cloudlets > li'),"
                   " function (li) { return !li.hidden; }).map(function (li) { return li.dataset.name; })")
        ws.evaluate("document.getElementById('search').focus()")
        report = {"focused": ws.evaluate("document.activeElement.id"), "after_word": {}}
        typed = ""
        for ch in text:
            if ch == " " and typed:
                report["after_word"][typed.split(" ")[-1]] = ws.evaluate(visible)
            ws.call("Input.dispatchKeyEvent", type="keyDown", key=ch, text=ch, unmodifiedText=ch)
            ws.call("Input.dispatchKeyEvent", type="keyUp", key=ch)
            typed += ch
        ws.evaluate("new Promise(function (r) { requestAnimationFrame(function () { r(true); }); })")
        report["value"] = ws.evaluate("document.getElementById('search').value")
        report["visible"] = ws.evaluate(visible)
        report["count"] = ws.evaluate("document.getElementById('count').textContent")
        shot = ws.call("Page.captureScreenshot", format="png")
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        try:
            ws.call("Browser.close")
        except Exception:
            pass
        print(json.dumps(report))
    finally:
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.terminate()
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait()


if __name__ == "__main__":
    main()
