"""Bulk import: customers from CSV or Excel, in resumable batches, every refused row reported."""
