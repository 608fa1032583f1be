"""What the benchmarks share: a sandbox in its own process, and a query counter."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_sandbox(*options):
    """Start ``python -m wagtail_easycars.sandbox --port 0 <options>``; return (process, root URL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wagtail_easycars.sandbox", "--port", "0", *map(str, options)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"on (http://\S+)", line)
    if not match:
        process.kill()
        raise RuntimeError(f"The sandbox did not start: {line!r}")
    return process, match.group(1)


class QueryCounter:
    """A ``connection.execute_wrapper`` that counts the queries Django sends."""

    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)
