"""Built-in connectors, one folder per vendor, each a plugin registered like a third-party one."""
