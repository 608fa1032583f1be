"""``SandboxControl``: a small httpx wrapper over the sandbox's control API."""

import httpx


class SandboxControl:
    """Drive a running sandbox: ``SandboxControl("http://127.0.0.1:8765")``.

    ``account`` arguments take an account number (``"EC000002"``) or a position (``2``);
    they default to the first account.
    """

    def __init__(self, root_url, *, timeout=30.0):
        self.root_url = root_url.rstrip("/")
        self._http = httpx.Client(base_url=f"{self.root_url}/_sandbox", timeout=timeout)

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _call(self, method, path, json=None, params=None):
        response = self._http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise RuntimeError(f"Sandbox control {method} {path} failed: {response.text}")
        return response.json()

    # State

    def info(self):
        return self._call("GET", "/")

    def reset(self, *, stock=None, seed=None, yards=None, accounts=None):
        """Fresh state (stock regenerated, leads, faults and log cleared)."""
        body = {"stock": stock, "seed": seed, "yards": yards, "accounts": accounts}
        return self._call("POST", "/reset", json={k: v for k, v in body.items() if v is not None})

    def accounts(self):
        return self._call("GET", "/accounts")["accounts"]

    def settings(self, *, latency_ms=None, token_lifetime=None):
        body = {"latency_ms": latency_ms, "token_lifetime": token_lifetime}
        return self._call("POST", "/settings", json={k: v for k, v in body.items() if v is not None})

    # Stock

    def stock(self, account=1, yard=None):
        params = {"yard": yard} if yard else None
        return self._call("GET", f"/accounts/{account}/stock", params=params)["items"]

    def stock_item(self, stock_number, account=1):
        return self._call("GET", f"/accounts/{account}/stock/{stock_number}")

    def add_stock(self, item=None, account=1):
        """Add an item; missing keys get generated values. Returns the full item."""
        return self._call("POST", f"/accounts/{account}/stock", json=item or {})

    def edit_stock(self, stock_number, changes, account=1):
        return self._call("PATCH", f"/accounts/{account}/stock/{stock_number}", json=changes)

    def reprice(self, stock_number, price, *, special_price=..., account=1):
        body = {"price": price}
        if special_price is not ...:
            body["special_price"] = special_price
        return self._call("POST", f"/accounts/{account}/stock/{stock_number}/reprice", json=body)

    def remove_stock(self, stock_number, account=1):
        return self._call("DELETE", f"/accounts/{account}/stock/{stock_number}")

    def set_images(self, stock_number, *, urls=None, count=None, variant="", account=1):
        """Replace a vehicle's images: explicit ``urls``, or ``count`` sandbox images of a new ``variant``."""
        if urls is not None:
            body = {"urls": list(urls)}
        else:
            body = {"count": 3 if count is None else count, "variant": variant}
        return self._call("PUT", f"/accounts/{account}/stock/{stock_number}/images", json=body)

    # Leads

    def leads(self, account=1):
        """The stored lead state (including ``LeadStatus``, which EasyCars never returns)."""
        return self._call("GET", f"/accounts/{account}/leads")["leads"]

    def received(self, account=1):
        """CreateLead/UpdateLead/CreateQuotation bodies exactly as received: ``[{endpoint, time, body}]``."""
        return self._call("GET", f"/accounts/{account}/received")["received"]

    def customers(self, account=1):
        return self._call("GET", f"/accounts/{account}/customers")["customers"]

    def quotations(self, account=1):
        return self._call("GET", f"/accounts/{account}/quotations")["quotations"]

    # Faults

    def add_fault(self, endpoint, kind, *, count=None, **params):
        """Inject a fault on ``endpoint`` ("LeadService/CreateLead", "CreateLead", "RequestToken" or "*").

        ``count``: how many calls it affects (``None``: until cleared). Kinds and their params:
        latency(ms), late_answer(ms), http_error(status), rate_limit(retry_after), code(code, message),
        warning(message), malformed, truncated, drop, token_lifetime(seconds); ``process=True/False``
        overrides whether the request is processed before the fault answers.
        """
        return self._call("POST", "/faults", json={"endpoint": endpoint, "kind": kind, "count": count, **params})

    def answer_late(self, endpoint, ms, *, count=1):
        """Process the next ``count`` calls to ``endpoint``, then wait ``ms`` before answering."""
        return self.add_fault(endpoint, "late_answer", count=count, ms=ms)

    def fail_after_processing(self, endpoint, status, *, count=1, retry_after=0):
        """Process the next ``count`` calls, then answer HTTP ``status`` (429 as a rate limit with ``Retry-After``)."""
        if status == 429:
            return self.add_fault(endpoint, "rate_limit", count=count, retry_after=retry_after, process=True)
        return self.add_fault(endpoint, "http_error", count=count, status=status, process=True)

    def faults(self):
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def add_image_fault(self, path, kind, *, count=None, **params):
        """``kind``: "404", "slow" (ms), "not_image", "oversize" (bytes), "truncated" (fraction), "bomb".

        ``path`` as in the image URL, or "*".
        """
        if path.startswith("http"):
            path = "/" + path.split("/", 3)[3]
        return self._call("POST", "/image-faults", json={"path": path, "kind": kind, "count": count, **params})

    def clear_image_faults(self):
        return self._call("DELETE", "/image-faults")

    def revoke_tokens(self):
        """Make every token issued so far invalid (as if they had expired server-side)."""
        return self._call("POST", "/tokens/revoke")

    # Request log

    def requests(self, endpoint=None):
        """Logged calls, oldest first; ``endpoint`` filters ("LeadService/RequestToken" or "RequestToken")."""
        params = {"endpoint": endpoint} if endpoint else None
        return self._call("GET", "/requests", params=params)["requests"]

    def count(self, endpoint):
        return len(self.requests(endpoint))

    def clear_requests(self):
        return self._call("DELETE", "/requests")
