"""pytest plugin of the conformance kit, loaded through the ``pytest11`` entry point."""
