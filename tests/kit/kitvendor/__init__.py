"""A tiny vendor used to test the conformance kit itself: connector, simulator and broken twins."""
