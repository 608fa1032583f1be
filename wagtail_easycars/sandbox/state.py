"""Everything the sandbox remembers: accounts, their stock, customers, leads and quotations,
plus the injected faults and the request log. Nothing leaves the process unless a state file
is given (JSON, loaded at start, written after each change).
"""

import datetime as dt
import itertools
import json
import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field

from .jwt import TokenSigner
from .stock import generate_stock, yards

SERVICES = {
    "StockService": ("RequestToken", "GetAdvertisementStocks"),
    "LeadService": (
        "RequestToken",
        "CreateLead",
        "UpdateLead",
        "GetLeadDetail",
        "CreateQuotation",
        "SearchContacts",
    ),
}
#: The lifetime of the vendor's example tokens (docs/easycars-api.md#token-shape).
DEFAULT_TOKEN_LIFETIME = 600
REQUEST_LOG_SIZE = 20000


@dataclass(frozen=True)
class SandboxAccount:
    """One API client and the dealer account it may use (both pairs, as EasyCars issues them)."""

    client_id: str
    client_secret: str
    account_number: str
    account_secret: str
    label: str

    def as_dict(self):
        return asdict(self)


def make_account(index):
    """Account 1 uses the placeholder credentials of docs/easycars-api.md; the others follow the same pattern."""
    if index == 1:
        ids = ("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002")
        secret = "00000000-0000-0000-0000-000000000003"
    else:
        ids = (f"00000000-0000-0000-{index:04d}-000000000001", f"00000000-0000-0000-{index:04d}-000000000002")
        secret = f"00000000-0000-0000-{index:04d}-000000000003"
    return SandboxAccount(ids[0], ids[1], f"EC{index:06d}", secret, f"sandbox-dealer-{index}")


@dataclass
class AccountData:
    account: SandboxAccount
    stock: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    leads: dict = field(default_factory=dict)
    quotations: dict = field(default_factory=dict)
    #: Lead-writing request bodies exactly as received: {"endpoint", "time", "body"}.
    received: list = field(default_factory=list)
    next_lead: int = 1
    next_customer: int = 1
    next_quote: int = 1

    def take_lead_number(self):
        number, self.next_lead = f"{self.next_lead:06d}", self.next_lead + 1
        return number

    def take_customer_number(self):
        number, self.next_customer = f"{self.next_customer:05d}", self.next_customer + 1
        return number

    def take_quote_number(self):
        number, self.next_quote = f"{self.next_quote:06d}", self.next_quote + 1
        return number

    def to_json(self):
        data = asdict(self)
        data["account"] = self.account.as_dict()
        data["stock"] = list(self.stock.values())
        return data

    @classmethod
    def from_json(cls, data):
        fields = dict(data)
        fields["account"] = SandboxAccount(**data["account"])
        fields["stock"] = {item["StockNumber"]: item for item in data["stock"]}
        return cls(**fields)


@dataclass
class Fault:
    id: int
    endpoint: str
    kind: str
    #: Calls left to affect; ``None``: until cleared.
    count: int | None
    params: dict

    def matches(self, endpoint):
        return self.endpoint in ("*", endpoint, endpoint.split("/")[-1])


class SandboxState:
    def __init__(self, *, stock=50, seed=1, yards=3, accounts=1, state_file=None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.signer = TokenSigner(SERVICES)
        self.images = {}
        self._fault_ids = itertools.count(1)
        self._stock_cache = {}
        self.requests = deque(maxlen=REQUEST_LOG_SIZE)
        if state_file and os.path.exists(state_file):
            self._load(state_file)
        else:
            self.reset(stock=stock, seed=seed, yards=yards, accounts=accounts)

    # Lifecycle -------------------------------------------------------------------------------

    def reset(self, *, stock=None, seed=None, yards=None, accounts=None):
        """Fresh stock, no leads, no faults, no log; arguments left out keep their last value."""
        with self.lock:
            previous = getattr(self, "config", {"stock": 50, "seed": 1, "yards": 3, "accounts": 1})
            self.config = {
                "stock": previous["stock"] if stock is None else int(stock),
                "seed": previous["seed"] if seed is None else seed,
                "yards": previous["yards"] if yards is None else max(1, int(yards)),
                "accounts": previous["accounts"] if accounts is None else max(1, int(accounts)),
            }
            self.accounts = []
            for index in range(1, self.config["accounts"] + 1):
                account = make_account(index)
                data = AccountData(account)
                for item in generate_stock(
                    self.config["stock"],
                    seed=self.config["seed"],
                    account_number=account.account_number,
                    yard_count=self.config["yards"],
                ):
                    data.stock[item["StockNumber"]] = item
                # A demo customer so SearchContacts finds someone from the start.
                data.customers["00001"] = _customer(
                    "00001", Name="EasyCars Customer", Email="EasyCarsCustomer@EasyCarsCustomer.com",
                    Mobile="0420000000", Address="Test Adress Line", City="St Marys", State="NSW",
                    PostCode="2760",
                )  # fmt: skip
                data.next_customer = 2
                self.accounts.append(data)
            self.faults = []
            self.image_faults = []
            self.requests.clear()
            self.signer.rotate()
            self.changed()

    def changed(self, account_number=None):
        """Call after every change: drops cached stock JSON and writes the state file."""
        with self.lock:
            if account_number is None:
                self._stock_cache.clear()
            else:
                for key in [key for key in self._stock_cache if key[0] == account_number]:
                    del self._stock_cache[key]
            if self.state_file:
                self._save(self.state_file)

    def _save(self, path):
        data = {"config": self.config, "accounts": [account.to_json() for account in self.accounts]}
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)

    def _load(self, path):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.config = data["config"]
        self.accounts = [AccountData.from_json(entry) for entry in data["accounts"]]
        self.faults = []
        self.image_faults = []

    # Look-ups --------------------------------------------------------------------------------

    def account(self, account_number):
        for data in self.accounts:
            if data.account.account_number == account_number:
                return data
        return None

    def client(self, client_id, client_secret=None):
        for data in self.accounts:
            if data.account.client_id == client_id and (
                client_secret is None or data.account.client_secret == client_secret
            ):
                return data
        return None

    def yards(self):
        return yards(self.config["yards"])

    def stock_list_json(self, data, yard_code, root_url):
        """The ``[...]`` StockList JSON for an account (optionally one yard), cached until a change."""
        key = (data.account.account_number, yard_code, root_url)
        with self.lock:
            cached = self._stock_cache.get(key)
            if cached is not None:
                return cached
            items = [item for item in data.stock.values() if yard_code is None or item["YardCode"] == yard_code]
            encoded = json.dumps([absolute_images(item, root_url) for item in items]).encode()
            self._stock_cache[key] = encoded
            return encoded

    # Faults and the request log ------------------------------------------------------------------

    def add_fault(self, endpoint, kind, count=None, **params):
        with self.lock:
            fault = Fault(next(self._fault_ids), endpoint, kind, count, params)
            self.faults.append(fault)
            return fault

    def take_faults(self, endpoint, faults=None):
        """The faults affecting this call, counting it against each one."""
        faults = self.faults if faults is None else faults
        with self.lock:
            taken = [fault for fault in faults if fault.matches(endpoint)]
            for fault in taken:
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        faults.remove(fault)
            return taken

    def log_request(self, endpoint, **details):
        now = time.time()
        entry = {
            "endpoint": endpoint,
            "time": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
            "timestamp": now,
            **details,
        }
        self.requests.append(entry)


def absolute_images(item, root_url):
    urls = item.get("ImageURLs") or ""
    if "/_sandbox/" not in urls:
        return item
    absolute = ",".join(root_url + url if url.startswith("/") else url for url in urls.split(","))
    return {**item, "ImageURLs": absolute}


def _customer(customer_no, **values):
    customer = {
        "CustomerNo": customer_no,
        "Name": "",
        "Email": "",
        "Phone": "",
        "Mobile": "",
        "Address": "",
        "City": "",
        "State": "",
        "PostCode": "",
        "Country": "",
        "ABN": "",
        "Fax": "",
    }
    customer.update(values)
    return customer


new_customer = _customer
