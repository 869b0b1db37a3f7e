"""The use cases, one module each. Nothing is imported here: a route imports the service it
needs inside its own function (`from chalicelib.services import disputes`), so a route, page or
worker that never touches a table never loads PynamoDB and botocore
(scripts/bench_cold_start.py, tests/integration/test_cold_start.py)."""
