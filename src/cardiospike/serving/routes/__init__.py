"""Routers, one per resource: health (health, ready, version), predict (one recording and batch), recordings (the
demo recording, an upload's recordings), report, stream (the live WebSocket), legacy, metrics, and web (the web
app's page and assets)."""
