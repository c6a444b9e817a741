"""The conformance kit every connector passes, built-in or third-party."""
