"""A real HTTP server on 127.0.0.1 that receives webhooks: it records every request and can
answer the first N with 500 (a receiver having a bad day) or be stopped (a receiver that is down)."""

import contextlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    fail_first: int = 0
    status_after: int = 200
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/rapport"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def running_receiver(*, fail_first: int = 0):
    def handler_factory(receiver_ref):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver = receiver_ref[0]
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.fail_first
                status = 500 if failing else receiver.status_after
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args):  # keep test output quiet
                pass

        return Handler

    ref = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory(ref))
    receiver = Receiver(server=server, fail_first=fail_first)
    ref.append(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        with contextlib.suppress(OSError):
            receiver.stop()
        thread.join(timeout=5)
