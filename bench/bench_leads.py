"""Lead sync benchmark: push 100 and 1,000 leads and refresh 1,000, against a slow sandbox.

    .venv/bin/python bench/bench_leads.py --latency-ms 50 \
        --database-url postgres://postgres@127.0.0.1:5432/easycars_bench_leads

The sandbox runs in its own process and adds ``--latency-ms`` to every EasyCars call. Each
phase runs the package's own code the way a worker does (``push_pending_leads`` for a
dealership's pending leads, ``refresh_leads`` for every lead EasyCars has), with
LEAD_PUSH_CONCURRENCY requests in flight. Reported per phase: wall time in the worker, the
time the same calls would take one after another (calls x latency), the queries issued, and
how many leads the sandbox holds afterwards (it must equal the leads pushed: no duplicates).
Not a test (nothing is asserted): the numbers go to docs/performance.md ("Leads").
"""

import argparse
import json
import os
import subprocess
import sys
import time

from common import QueryCounter, start_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"push 100": 5.0, "refresh 1000": 30.0}


def start_leads_sandbox(latency_ms, accounts):
    return start_sandbox("--stock", 5, "--accounts", accounts, "--latency-ms", latency_ms)


def _pending_leads(dealership, vehicle, count):
    from wagtail_easycars.models import Lead

    # bulk_create skips the outbox signals: these are leads whose queued push has not run yet.
    Lead.objects.bulk_create(
        Lead(
            dealership=dealership,
            vehicle=vehicle,
            name=f"Bench Customer {n}",
            email=f"bench.{dealership.pk}.{n}@example.com",
            mobile="0420000000",
            message="Is this car still available?",
            data_source=Lead.DataSource.WEBFORM,
            sync_state=Lead.SyncState.PENDING,
        )
        for n in range(count)
    )


def worker(latency_ms, concurrency):
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    sandbox, root_url = start_leads_sandbox(latency_ms, accounts=2)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        settings.WAGTAIL_EASYCARS["BASE_URLS"] = {"test": f"{root_url}/TestECService", "production": root_url}
        settings.WAGTAIL_EASYCARS["LEAD_PUSH_CONCURRENCY"] = concurrency
        from tests.factories import CredentialFactory, DealershipFactory, EasyCarsVehicleFactory
        from wagtail_easycars.models import Lead, SyncLog
        from wagtail_easycars.sandbox import SandboxControl
        from wagtail_easycars.sync import runs
        from wagtail_easycars.sync.accounts import client_for
        from wagtail_easycars.sync.leads.delivery import push_pending_leads
        from wagtail_easycars.sync.leads.refresh import refresh_leads

        control = SandboxControl(root_url, timeout=120)
        accounts = control.accounts()
        dealerships = []
        for index in range(2):
            account = accounts[index]
            credential = CredentialFactory(
                dealership=DealershipFactory(),
                client_id=account["client_id"],
                client_secret=account["client_secret"],
                account_number=account["account_number"],
                account_secret=account["account_secret"],
            )
            dealerships.append(credential.dealership)
        phases = []

        def measure(label, function, calls, account):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                start = time.perf_counter()
                outcome = function()
                seconds = time.perf_counter() - start
            phases.append(
                {
                    "phase": label,
                    "seconds": round(seconds, 2),
                    "sequential_estimate": round(calls * latency_ms / 1000, 1),
                    "queries": counter.queries,
                    "sandbox_leads": len(control.leads(account)),
                    "outcome": outcome,
                }
            )

        for index, count in enumerate((100, 1000)):
            dealership = dealerships[index]
            vehicle = EasyCarsVehicleFactory(dealership=dealership)
            _pending_leads(dealership, vehicle, count)
            with client_for(dealership) as client:
                measure(
                    f"push {count}",
                    lambda d=dealership, c=client: push_pending_leads(d, client=c, trigger="command"),
                    count,
                    index + 1,
                )

        dealership = dealerships[1]
        run_log, _ = runs.begin_run(dealership, SyncLog.SyncType.LEAD, SyncLog.Direction.INBOUND)
        recorder = runs.RunRecorder(run_log)

        def refresh():
            with client_for(dealership) as client:
                refresh_leads(dealership, client, recorder, sync_log=run_log)
            done = recorder.finish()
            return {k: getattr(done, k) for k in ("status", "records_total", "records_unchanged", "records_failed")}

        count = Lead.objects.filter(dealership=dealership).exclude(easycars_lead_number=None).count()
        measure(f"refresh {count}", refresh, count, 2)
        return {"latency_ms": latency_ms, "concurrency": concurrency, "phases": phases}
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        sandbox.kill()
        sandbox.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=int, default=50, help="added by the sandbox to every EasyCars call")
    parser.add_argument("--concurrency", type=int, default=5, help="LEAD_PUSH_CONCURRENCY")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.latency_ms, args.concurrency)))
        return
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url must point at PostgreSQL (or set DATABASE_URL)")
    env = {**os.environ, "DATABASE_URL": args.database_url, "PYTHONPATH": ROOT}
    output = subprocess.run(
        [sys.executable, __file__, "--worker", "--latency-ms", str(args.latency_ms),
         "--concurrency", str(args.concurrency)],
        env=env, check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    print(f"\nsandbox latency {result['latency_ms']} ms per call, {result['concurrency']} calls in flight")
    print(f"  {'phase':14} {'seconds':>8} {'one-by-one':>11} {'queries':>8} {'in sandbox':>11}  outcome")
    for p in result["phases"]:
        target = TARGETS.get(p["phase"])
        verdict = "" if target is None else f" (target < {target:g} s: {'met' if p['seconds'] < target else 'MISSED'})"
        print(
            f"  {p['phase']:14} {p['seconds']:8.2f} {p['sequential_estimate']:10.1f}s {p['queries']:8d} "
            f"{p['sandbox_leads']:11d}  {p['outcome']}{verdict}"
        )


if __name__ == "__main__":
    main()
