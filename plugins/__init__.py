"""Plugin machinery: the manager, the vendor SDK (``plugins.sdk``) and the conformance kit."""
