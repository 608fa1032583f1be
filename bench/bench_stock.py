"""Stock sync benchmark: the sandbox with N vehicles, synced into PostgreSQL.

    .venv/bin/python bench/bench_stock.py --sizes 500,5000,20000 --latency-ms 0 \
        --database-url postgres://postgres@127.0.0.1:5432/easycars_bench

For each size, in a fresh process (so peak memory is that size's alone) and against a sandbox
running in its own process: the bare time to fetch the list with the client, the first import,
a re-sync with nothing changed (and its vehicle row writes), a re-sync with 10% of prices changed,
the queries each issued, and the peak RSS of the stock phases. For sizes in --image-sizes every
vehicle is then given 10 photos and a separate photo run is timed. Photos are excluded from the
targets; not a test (nothing is asserted), the numbers go to docs/performance.md.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from common import QueryCounter, start_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_stock_sandbox(size, latency_ms):
    return start_sandbox("--stock", size, "--accounts", 1, "--latency-ms", latency_ms, "--yards", 3)


def row_versions():
    """Vehicle id -> xmin: every INSERT or UPDATE of a row, even one changing nothing, gives a new xmin."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM wagtail_easycars_vehicle")
        return dict(cursor.fetchall())


def measure(label, function):
    from django.db import connection

    from wagtail_easycars.sync.stock import insert

    counter = QueryCounter()  # the COPY of new vehicles goes round Django's cursor wrapper: counted apart
    copies = []
    original = insert.insert_vehicles

    def counted_insert(dealership, creates, now):
        copies.append(len(creates))
        return original(dealership, creates, now)

    insert.insert_vehicles = counted_insert
    before = row_versions()
    try:
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            outcome = function()
            seconds = time.perf_counter() - start
    finally:
        insert.insert_vehicles = original
    after = row_versions()
    written = sum(1 for pk, version in after.items() if before.get(pk) != version)
    return {"phase": label, "seconds": round(seconds, 3), "queries": counter.queries + len(copies),
            "vehicle_rows_written": written, "outcome": outcome}  # fmt: skip


def worker(size, latency_ms, image_sizes):
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django_q.conf import Conf

    # As in production: the sync only queues its follow-up tasks (search index); no worker runs them here.
    Conf.SYNC = False

    sandbox, root_url = start_stock_sandbox(size, latency_ms)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        settings.WAGTAIL_EASYCARS["BASE_URLS"] = {"test": f"{root_url}/TestECService", "production": root_url}
        settings.MEDIA_ROOT = os.path.join("/tmp", f"easycars-bench-media-{os.getpid()}")
        from tests.factories import CredentialFactory
        from wagtail_easycars.client.http import EasyCarsClient
        from wagtail_easycars.sandbox import SandboxControl
        from wagtail_easycars.sync.accounts import account_for
        from wagtail_easycars.sync.stock.photos import gallery
        from wagtail_easycars.sync.stock.sync import sync_stock

        credential = CredentialFactory()
        dealership = credential.dealership
        account = account_for(credential)
        control = SandboxControl(root_url, timeout=120)

        def bare_fetch():
            with EasyCarsClient(account) as client:
                return len(client.get_advertisement_stocks().items)

        with EasyCarsClient(account) as client:  # the access token, as every sync after the first has it
            client.test_connection()

        def run():
            log = sync_stock(dealership, images=False)
            return {k: getattr(log, k) for k in ("status", "records_created", "records_updated", "records_unchanged")}

        first_import = measure("first import", run)
        no_change = min((measure("no-change re-sync", run) for _ in range(3)), key=lambda r: r["seconds"])
        # Peak of the sync phases alone: measured before the bare fetches and before the bench
        # loads its own copy of the stock list through the control API.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        fetch = min((measure("bare fetch", bare_fetch) for _ in range(3)), key=lambda r: r["seconds"])
        phases = [fetch, first_import, no_change]
        items = [(i["StockNumber"], i["Price"]) for i in control.stock()]
        for number, price in items[: max(1, len(items) // 10)]:
            control.edit_stock(number, {"Price": (price or 20000) + 500})
        phases.append(measure("10% changed re-sync", run))
        if size in image_sizes:
            for number, _price in items:
                control.set_images(number, count=10, variant="bench")
            sync_stock(dealership, images=False)
            phases.append(measure("photo run (10 per vehicle)", lambda: _photo_run(gallery, dealership)))
        for phase in phases:
            phase["x_fetch"] = round(phase["seconds"] / fetch["seconds"], 2) if fetch["seconds"] else None
        return {"size": size, "latency_ms": latency_ms, "peak_rss_mb_stock": round(peak_mb), "phases": phases}
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        sandbox.kill()
        sandbox.wait()


def _photo_run(gallery, dealership):
    log = gallery.sync_images(dealership)
    return {k: getattr(log, k) for k in ("status", "images_downloaded", "images_reused", "images_failed")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000,20000")
    parser.add_argument("--latency-ms", type=int, default=0, help="added by the sandbox to every EasyCars call")
    parser.add_argument("--image-sizes", default="500", help="sizes that also get a photo run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    image_sizes = {int(s) for s in args.image_sizes.split(",") if s}
    if args.worker:
        print(json.dumps(worker(args.worker, args.latency_ms, image_sizes)))
        return
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url must point at PostgreSQL (or set DATABASE_URL)")
    env = {**os.environ, "DATABASE_URL": args.database_url, "PYTHONPATH": ROOT}
    for size in (int(s) for s in args.sizes.split(",")):
        output = subprocess.run(
            [sys.executable, __file__, "--worker", str(size), "--latency-ms", str(args.latency_ms),
             "--image-sizes", args.image_sizes],
            env=env, check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
        result = json.loads(output.strip().splitlines()[-1])
        print(f"\n{size} vehicles, sandbox latency {args.latency_ms} ms, peak RSS {result['peak_rss_mb_stock']} MB")
        print(f"  {'phase':28} {'seconds':>8} {'x fetch':>8} {'queries':>8} {'vehicle rows written':>21}")
        for p in result["phases"]:
            print(
                f"  {p['phase']:28} {p['seconds']:8.3f} {p['x_fetch']:8.2f} {p['queries']:8d} "
                f"{p['vehicle_rows_written']:21d}  {p['outcome'] if p['phase'] != 'bare fetch' else ''}"
            )


if __name__ == "__main__":
    main()
