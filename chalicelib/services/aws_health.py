"""What the entry points (routes, workers) ask about AWS: how long a request may spend on it,
and whether a failure was AWS's own. The adapters decide both (adapters/aws.py,
adapters/faults.py); entry points ask here, so none of them reaches into the adapters."""

from __future__ import annotations

from chalicelib.adapters.aws import request_budget
from chalicelib.adapters.faults import describe, is_aws_fault

__all__ = ["describe", "is_aws_fault", "request_budget"]
