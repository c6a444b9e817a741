"""Pure pydantic models: HTTP contracts (``schemas.api``) and canonical connector data."""
