"""The control API under ``/_sandbox/``: JSON in, JSON out, for tests, benchmarks and demos.

Routes are listed in docs/sandbox.md. Accounts are addressed by account number or by position
(``1`` is the first account).
"""

import json
from dataclasses import asdict

from .images import DAMAGE_KINDS
from .state import absolute_images
from .stock import image_paths, new_item

FAULT_KINDS = (
    "latency", "late_answer", "http_error", "rate_limit", "code", "warning", "malformed", "truncated", "drop",
    "token_lifetime",
)  # fmt: skip
IMAGE_FAULT_KINDS = ("404", "slow", "not_image", "oversize", *DAMAGE_KINDS)


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def handle_control(sandbox, method, path, query, raw):
    parts = [part for part in path.split("/") if part][1:]
    try:
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ControlError(400, "The body must be a JSON object.")
        with sandbox.state.lock:
            return _route(sandbox, method, parts, query, body)
    except ValueError as exc:
        return 400, {"error": str(exc)}
    except ControlError as exc:
        return exc.status, {"error": str(exc)}


def _route(sandbox, method, parts, query, body):
    state = sandbox.state
    route = (method, *parts[:1])
    if route == ("GET",):
        return 200, _info(sandbox)
    if route == ("POST", "reset"):
        state.reset(
            stock=body.get("stock"), seed=body.get("seed"), yards=body.get("yards"), accounts=body.get("accounts")
        )
        sandbox.images.__init__()
        return 200, _info(sandbox)
    if route == ("GET", "accounts") and len(parts) == 1:
        return 200, {"accounts": [account.as_dict() for account in sandbox.accounts]}
    if parts[:1] == ["accounts"] and len(parts) >= 3:
        return _account_route(sandbox, method, _account(state, parts[1]), parts[2:], query, body)
    if parts[:1] == ["faults"]:
        return _faults(state, state.faults, FAULT_KINDS, method, parts, body, "endpoint")
    if parts[:1] == ["image-faults"]:
        return _image_faults(sandbox, method, parts, body)
    if route == ("GET", "requests"):
        entries = [entry for entry in state.requests if _wanted(entry, query.get("endpoint"))]
        return 200, {"requests": entries, "count": len(entries)}
    if route == ("DELETE", "requests"):
        state.requests.clear()
        return 200, {"requests": [], "count": 0}
    if route == ("POST", "tokens") and parts[1:] == ["revoke"]:
        state.signer.rotate()
        return 200, {"revoked": True}
    if route == ("POST", "settings"):
        if "latency_ms" in body:
            sandbox.latency_ms = int(body["latency_ms"])
        if "token_lifetime" in body:
            sandbox.token_lifetime = int(body["token_lifetime"])
        return 200, {"latency_ms": sandbox.latency_ms, "token_lifetime": sandbox.token_lifetime}
    raise ControlError(404, f"No control route {method} /_sandbox/{'/'.join(parts)}")


def _wanted(entry, endpoint):
    return endpoint is None or entry["endpoint"] == endpoint or entry["endpoint"].endswith("/" + endpoint)


def _info(sandbox):
    return {
        "root_url": sandbox.root_url,
        "base_urls": {"test": sandbox.base_url, "production": sandbox.production_url},
        "config": sandbox.state.config,
        "accounts": [
            {**data.account.as_dict(), "stock": len(data.stock), "leads": len(data.leads)}
            for data in sandbox.state.accounts
        ],
    }


def _account(state, key):
    if key.isdigit() and 1 <= int(key) <= len(state.accounts):
        return state.accounts[int(key) - 1]
    data = state.account(key)
    if data is None:
        raise ControlError(404, f"No sandbox account {key}")
    return data


def _account_route(sandbox, method, data, parts, query, body):
    state, root = sandbox.state, sandbox.root_url
    number = data.account.account_number
    resource = parts[0]
    if resource == "stock" and len(parts) == 1:
        if method == "GET":
            yard = query.get("yard")
            items = [absolute_images(item, root) for item in data.stock.values() if yard in (None, item["YardCode"])]
            return 200, {"items": items, "count": len(items)}
        if method == "POST":
            stock_number = str(body.get("StockNumber") or _next_stock_number(data))
            if stock_number in data.stock:
                raise ControlError(409, f"Stock {stock_number} already exists")
            item = new_item(body, account_number=number, stock_number=stock_number, yard_list=state.yards())
            data.stock[stock_number] = item
            state.changed(number)
            return 201, absolute_images(item, root)
    if resource == "stock" and len(parts) >= 2:
        item = data.stock.get(parts[1])
        if item is None:
            raise ControlError(404, f"No stock {parts[1]} in {number}")
        action = (method, *parts[2:])
        if action == ("GET",):
            return 200, absolute_images(item, root)
        if action == ("DELETE",):
            del data.stock[parts[1]]
            state.changed(number)
            return 200, {"removed": parts[1]}
        if action == ("PATCH",):
            unknown = set(body) - set(item) - set()
            if unknown or "StockNumber" in body:
                raise ControlError(400, f"Cannot set {', '.join(sorted(unknown | ({'StockNumber'} & set(body))))}")
            item.update(body)
        elif action == ("POST", "reprice"):
            item["Price"] = body.get("price")
            if "special_price" in body:
                item["AdvSpecialPrice"] = body["special_price"]
                item["IsSpecial"] = body["special_price"] is not None
        elif action == ("PUT", "images"):
            if "urls" in body:
                urls = [str(url) for url in body["urls"]]
                item["ImageURLs"], item["ImageCount"] = ",".join(urls), len(urls)
            else:
                count = int(body.get("count", 3))
                item["ImageURLs"] = image_paths(number, parts[1], count, body.get("variant", ""))
                item["ImageCount"] = count
        else:
            raise ControlError(404, f"No control route {method} on stock")
        state.changed(number)
        return 200, absolute_images(item, root)
    if (method, resource) == ("GET", "leads"):
        return 200, {"leads": list(data.leads.values())}
    if (method, resource) == ("GET", "received"):
        return 200, {"received": data.received}
    if (method, resource) == ("GET", "customers"):
        return 200, {"customers": list(data.customers.values())}
    if (method, resource) == ("GET", "quotations"):
        return 200, {"quotations": list(data.quotations.values())}
    raise ControlError(404, f"No control route {method} /{'/'.join(parts)}")


def _next_stock_number(data):
    numbers = [int(number) for number in data.stock if number.isdigit()]
    return max(numbers, default=1000) + 1


def _image_faults(sandbox, method, parts, body):
    """Image faults; the damaged-photo kinds (truncated, bomb) are served by the image store."""
    state = sandbox.state
    status, answer = _faults(state, state.image_faults, IMAGE_FAULT_KINDS, method, parts, body, "path")
    if method == "POST" and answer["kind"] in DAMAGE_KINDS:
        sandbox.images.damage(answer["id"], answer["endpoint"], answer["kind"], answer["count"], **answer["params"])
    elif method == "DELETE":
        sandbox.images.repair(parts[1] if len(parts) == 2 else None)
    return status, answer


def _faults(state, faults, kinds, method, parts, body, target_key):
    if method == "GET":
        return 200, {"faults": [asdict(fault) for fault in faults]}
    if method == "DELETE" and len(parts) == 1:
        faults.clear()
        return 200, {"faults": []}
    if method == "DELETE" and len(parts) == 2:
        faults[:] = [fault for fault in faults if str(fault.id) != parts[1]]
        return 200, {"faults": [asdict(fault) for fault in faults]}
    if method == "POST" and len(parts) == 1:
        params = dict(body)
        kind = params.pop("kind", None)
        if kind not in kinds:
            raise ControlError(400, f"kind must be one of {', '.join(kinds)}")
        target = params.pop(target_key, "*")
        count = params.pop("count", None)
        fault = state.add_fault(target, kind, count, **params)
        if faults is not state.faults:
            state.faults.remove(fault)
            faults.append(fault)
        return 201, asdict(fault)
    raise ControlError(404, "No such faults route")
