"""Publishing form versions and reading them back; each publication audited.

A publication is checked whole (``core.forms.definition``) and stored as the next version
number of its product. Nothing here updates or deletes a version: versions are immutable, and
the unique ``(product_id, version)`` constraint turns two concurrent publications of the same
number into one success and one 409 rather than two forms called "3".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound
from core.products.repository import product_by_id

from .definition import definition_errors
from .models import FormVersion

__all__ = ["form_version", "publish_form"]


async def publish_form(
    session: AsyncSession, actor: Actor, product_id: str, *, json_schema: Any, rules: Any
) -> FormVersion:
    """Publish a new version of ``product_id``'s form; ``Invalid`` with every problem otherwise.

    Raises:
        NotFound: no such product (``products.not_found``).
        Invalid: ``forms.invalid`` with field errors (``json_schema.properties.age.type``,
            ``rules[2].expression`` …).
        Conflict: another publication took the same version number first (``forms.version_taken``).
    """
    product = await product_by_id(session, product_id)
    errors = definition_errors(json_schema, rules)
    if errors:
        raise Invalid("forms.invalid", errors=errors)
    current = await session.scalar(
        select(func.max(FormVersion.version)).where(FormVersion.product_id == product.id)
    )
    version = FormVersion(
        product_id=product.id,
        version=(current or 0) + 1,
        json_schema=json_schema,
        rules=[
            {key: rule[key] for key in ("name", "field", "expression", "message_code") if key in rule}
            for rule in rules
        ],
        created_by=actor.audit_name,
    )
    try:
        async with session.begin_nested():
            session.add(version)
    except IntegrityError as error:
        raise Conflict("forms.version_taken", version=version.version) from error
    await audit.record(
        session,
        actor,
        "forms.publish",
        target_type="product",
        target_id=product.id,
        after={"form_version": version.version, "rules": [rule["name"] for rule in version.rules]},
    )
    return version


async def form_version(session: AsyncSession, product_id: str, version: int | None = None) -> FormVersion:
    """Version ``version`` of the product's form, or its newest; ``NotFound`` when there is none."""
    product = await product_by_id(session, product_id)
    statement = select(FormVersion).where(FormVersion.product_id == product.id)
    if version is None:
        statement = statement.order_by(FormVersion.version.desc()).limit(1)
    else:
        statement = statement.where(FormVersion.version == version)
    found = await session.scalar(statement)
    if found is None:
        if version is None:
            raise NotFound("forms.none_published", product=product.code)
        raise NotFound("forms.no_such_version", product=product.code, version=version)
    return found
