"""HTTP contracts of the LendHub API."""
