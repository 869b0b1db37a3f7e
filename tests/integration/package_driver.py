"""Runs the unpacked Lambda package as Lambda would: one warm container, one event at a time.

    python -I -S package_driver.py <unpacked folder>

`-I -S`: no user site, no site-packages, no PYTHON* variables, not even this script's folder
on the import path: only the standard library and the unpacked zip (the code with the
dependencies Chalice vendored), so whatever the package lacks fails here as it would on AWS.

Reads JSON lines `{"handler": name, "event": {...}}` from stdin; writes one JSON line per
event, `{"result": ...}` or `{"error": ...}`, to the stdout it started with. What the code
logs goes to stderr, as Lambda's runtime would send it to CloudWatch.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import uuid


class Context:
    """The attributes of Lambda's context object that code and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:ap-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "package-test"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> int:
    unpacked = sys.argv[1]
    sys.path.insert(0, unpacked)
    results = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # logs to stderr; results alone on the original stdout
    sys.stdout = sys.stderr

    import app as package_app

    results.write(json.dumps({"started": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        handler = request["handler"]
        if handler == "loaded_modules":  # where every module so far came from
            files = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}
            answer = {"result": {"modules": files, "path": sys.path}}
            results.write(json.dumps(answer) + "\n")
            continue
        target = package_app.app if handler == "api_handler" else getattr(package_app, handler)
        try:
            answer = {"result": target(request["event"], Context(f"recount-dev-{handler}"))}
        except Exception:
            answer = {"error": traceback.format_exc()}
        results.write(json.dumps(answer, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
