"""``python -m wagtail_easycars.sandbox --port 8765``: run the sandbox in the foreground."""

import argparse
import sys

from .server import SandboxServer
from .state import DEFAULT_TOKEN_LIFETIME


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m wagtail_easycars.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stock", type=int, default=50, help="stock items per account")
    parser.add_argument("--seed", default="1", help="seed of the stock generator")
    parser.add_argument("--yards", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=1, help="number of dealer accounts")
    parser.add_argument("--state-file", default=None, help="JSON file to load at start and write on change")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every EasyCars call")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME, help="seconds")
    return parser


def main(argv=None, stdout=None):
    args = build_parser().parse_args(argv)
    stdout = stdout or sys.stdout
    server = SandboxServer(
        args.host,
        args.port,
        stock=args.stock,
        seed=args.seed,
        yards=args.yards,
        accounts=args.accounts,
        state_file=args.state_file,
        latency_ms=args.latency_ms,
        token_lifetime=args.token_lifetime,
    )
    print(f"EasyCars sandbox on {server.root_url}", file=stdout)
    print(f"  BASE_URLS test: {server.base_url}  production: {server.production_url}", file=stdout)
    for account in server.accounts:
        print(
            f"  {account.label}: ClientID={account.client_id} ClientSecret={account.client_secret} "
            f"AccountNumber={account.account_number} AccountSecret={account.account_secret}",
            file=stdout,
        )
    print(f"  Control API: {server.root_url}/_sandbox/", file=stdout, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
