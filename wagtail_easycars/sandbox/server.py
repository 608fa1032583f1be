"""The sandbox's HTTP side: EasyCars paths under /TestECService and /ECService, the control
API and images under /_sandbox/, on a stdlib ThreadingHTTPServer.
"""

import json
import logging
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ..client.contract import ResponseCode
from ..client.redaction import redact_text
from . import api, images
from .control_api import handle_control
from .state import DEFAULT_TOKEN_LIFETIME, SERVICES, SandboxState

logger = logging.getLogger("wagtail_easycars.sandbox")

EASYCARS_PATH = re.compile(r"/(TestECService|ECService)/(\w+)/(\w+)")
IMAGE_PATH = re.compile(r"/_sandbox/images/[\w-]+/[\w-]+/[\w.-]+\.jpg")
#: Fault kinds that by default answer without touching the state; the others process first.
UNPROCESSED_KINDS = ("http_error", "rate_limit", "code")
RESPONSE_KINDS = (*UNPROCESSED_KINDS, "warning", "malformed", "truncated", "drop")
#: Waits between the work and the answer (``latency`` waits before the work).
LATE_ANSWER = "late_answer"
MALFORMED_BODY = b"<html><body><h1>Runtime Error</h1>An application error occurred.</body></html>"


class SandboxServer:
    """A faithful EasyCars stand-in on loopback. ``start()`` serves from a background thread."""

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        stock=50,
        seed=1,
        yards=3,
        accounts=1,
        state_file=None,
        latency_ms=0,
        token_lifetime=DEFAULT_TOKEN_LIFETIME,
    ):
        self.state = SandboxState(stock=stock, seed=seed, yards=yards, accounts=accounts, state_file=state_file)
        self.latency_ms = latency_ms
        self.token_lifetime = token_lifetime
        self.images = images.ImageStore()
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.sandbox = self
        self._thread = None

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def root_url(self):
        host = self.httpd.server_address[0]
        # A server on every interface is still reached through loopback.
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def base_url(self):
        """The Test environment root, for ``WAGTAIL_EASYCARS["BASE_URLS"]["test"]``."""
        return f"{self.root_url}/TestECService"

    @property
    def production_url(self):
        return f"{self.root_url}/ECService"

    @property
    def accounts(self):
        """The :class:`SandboxAccount` credentials, account 1 first."""
        return [data.account for data in self.state.accounts]

    def start(self):
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="easycars-sandbox"
        )
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Clients that time out and hang up are part of the job, not a server error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EasyCarsSandbox/1.0"
    # Headers and body go out in separate writes: without this, Nagle plus delayed ACKs add ~40 ms per call.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        # The access log shows RequestToken query strings: keep the ClientSecret out of it.
        logger.debug("%s %s", self.address_string(), redact_text(format % args))

    @property
    def sandbox(self):
        return self.server.sandbox

    def do_POST(self):
        self._dispatch("POST")

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _dispatch(self, method):
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self._read_body()
        if IMAGE_PATH.fullmatch(url.path) and method in ("GET", "HEAD"):
            return self._image(url.path, head=method == "HEAD")
        if url.path.startswith("/_sandbox/") or url.path == "/_sandbox":
            status, payload = handle_control(self.sandbox, method, url.path, query, raw)
            return self._send(status, json.dumps(payload).encode())
        match = EASYCARS_PATH.fullmatch(url.path)
        if not match or match[3] not in SERVICES.get(match[2], ()):
            return self._send(404, json.dumps(api.envelope(ResponseCode.FAILED, "Unknown endpoint.")).encode())
        if method != "POST":
            body = api.envelope(ResponseCode.FAILED, f"{method} is not allowed; every EasyCars endpoint is POST.")
            return self._send(405, json.dumps(body).encode(), {"Allow": "POST"})
        self._easycars(match[2], match[3], query, raw)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, headers=None, content_type="application/json; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # EasyCars ----------------------------------------------------------------------------------

    def _easycars(self, service, operation, query, raw):
        sandbox, state = self.sandbox, self.sandbox.state
        endpoint = f"{service}/{operation}"
        faults = state.take_faults(endpoint)
        delay = sandbox.latency_ms + sum(f.params.get("ms", 0) for f in faults if f.kind == "latency")
        if delay:
            time.sleep(delay / 1000)
        lifetime = sandbox.token_lifetime
        for fault in faults:
            if fault.kind == "token_lifetime":
                lifetime = fault.params.get("seconds", lifetime)
        fault = next((f for f in faults if f.kind in RESPONSE_KINDS), None)
        account_number = None
        if fault and not fault.params.get("process", fault.kind not in UNPROCESSED_KINDS):
            result = None
        else:
            with state.lock:
                result, account_number = self._process(service, operation, query, raw, lifetime)
        late = sum(f.params.get("ms", 0) for f in faults if f.kind == LATE_ANSWER)
        if late:
            # The work is done (or not, as the response fault says); the answer comes after the
            # client may have given up, as when EasyCars or a gateway in front of it is slow.
            time.sleep(late / 1000)
        details = {"processed": result is not None, "late_ms": late or None}
        self._answer(endpoint, result, fault, account_number, details)

    def _process(self, service, operation, query, raw, lifetime):
        state = self.sandbox.state
        if operation == "RequestToken":
            return api.request_token(state, service, query, lifetime), None
        data, body = api.authenticate(state, service, self.headers, raw)
        if body is None:
            return data, None
        number = data.account.account_number
        if operation in api.RECORDED:
            data.received.append(
                {"endpoint": f"{service}/{operation}", "time": time.time(), "body": raw.decode("utf-8", "replace")}
            )
        try:
            if operation == "GetAdvertisementStocks":
                stock = state.stock_list_json(data, api.stock_yard_filter(body), self.sandbox.root_url)
                return api.envelope(StockList=stock), number
            result = api.OPERATIONS[operation](state, data, body)
        except api.v.Invalid as exc:
            result = api.envelope(ResponseCode.FAILED, str(exc))
        if operation in api.RECORDED:
            state.changed(number)
        return result, number

    def _answer(self, endpoint, result, fault, account_number, extra):
        state = self.sandbox.state
        kind = fault.kind if fault else None
        params = fault.params if fault else {}
        details = {"fault": kind or (LATE_ANSWER if extra["late_ms"] else None), "account": account_number, **extra}
        if kind == "drop":
            state.log_request(endpoint, status=None, code=None, **details)
            return self._drop()
        if kind == "http_error":
            status = int(params.get("status", 500))
            state.log_request(endpoint, status=status, code=None, **details)
            return self._send(status, b"Internal Server Error", content_type="text/plain")
        if kind == "rate_limit":
            retry_after = str(params.get("retry_after", 1))
            state.log_request(endpoint, status=429, code=None, **details)
            body = json.dumps(api.envelope(ResponseCode.SYSTEM_ERROR, "Too many requests.")).encode()
            return self._send(429, body, {"Retry-After": retry_after})
        if kind == "code":
            code = int(params.get("code", ResponseCode.SYSTEM_ERROR))
            result = api.envelope(code, params.get("message", "System error."))
            if endpoint.endswith("RequestToken"):
                result = {"Token": None, **result}
        if kind == "warning" and result.get("Code") == ResponseCode.SUCCESS:
            result["Code"] = int(ResponseCode.WARNING)
            result["ErrorMessage"] = params.get("message", "Sandbox warning: processed with a warning.")
        if kind == "malformed":
            state.log_request(endpoint, status=200, code=None, **details)
            return self._send(200, MALFORMED_BODY)
        body = _encode(result)
        state.log_request(endpoint, status=200, code=result.get("Code"), **details)
        if kind == "truncated":
            return self._send(200, body[: max(1, len(body) // 2)])
        self._send(200, body)

    # Images ------------------------------------------------------------------------------------

    def _image(self, path, head=False):
        state = self.sandbox.state
        faults = state.take_faults(path, state.image_faults)
        state.log_request("images", path=path, fault=faults[0].kind if faults else None)
        for fault in faults:
            if fault.kind == "slow":
                time.sleep(fault.params.get("ms", 2000) / 1000)
        kind = next((f.kind for f in faults if f.kind != "slow"), None)
        params = next((f.params for f in faults if f.kind != "slow"), {})
        if kind == "404":
            return self._send(404, b"Not Found", content_type="text/plain")
        if kind == "not_image":
            return self._send(200, b"<html><body>Not an image</body></html>", content_type="image/jpeg")
        if kind == "oversize":
            data = images.oversize(path, int(params.get("bytes", 16 * 1024 * 1024)))
        else:
            data = self.sandbox.images.jpeg(path)
        self._send(200, data, {"Cache-Control": "public, max-age=3600"}, content_type="image/jpeg")


def _encode(result):
    stock = result.get("StockList")
    if isinstance(stock, bytes):
        rest = json.dumps({key: value for key, value in result.items() if key != "StockList"}).encode()
        return b'{"StockList":' + stock + b"," + rest[1:]
    return json.dumps(result).encode()
