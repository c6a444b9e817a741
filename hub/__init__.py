"""Composition root: the FastAPI app, webhook ingestion, outbound dispatch, workers and the CLI."""
