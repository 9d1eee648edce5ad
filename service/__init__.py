"""FastAPI app, CLI, templates and static files: wires ingest and index into a web service."""
