"""Routers, one per resource: health (health, ready, version), predict (v1 and batch), report, legacy, metrics."""
