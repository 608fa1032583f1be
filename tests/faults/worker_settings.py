"""Settings of the real django-q2 worker the fault suite starts (tests/faults/conftest.py).

The suite's own settings, pointed at the test database the pytest process is using, at the
sandbox and at the test's media folder, with a real (not inline) cluster on the ORM broker.
Everything the test decides comes in through the environment as JSON.
"""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, WAGTAIL_EASYCARS

_given = json.loads(os.environ["EASYCARS_WORKER"])

DATABASES = {"default": {**DATABASES["default"], "NAME": _given["database"], "TEST": {}}}
MEDIA_ROOT = _given["media_root"]
WAGTAIL_EASYCARS = {**WAGTAIL_EASYCARS, **_given["easycars"]}
Q_CLUSTER = {
    "name": "easycars-tests",
    "orm": "default",
    "sync": False,
    "workers": 1,
    "recycle": 1000,
    "poll": 0.2,
    "timeout": _given["timeout"],
    "retry": _given["retry"],
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 0,
}
