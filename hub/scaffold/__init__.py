"""Scaffolding of connector plugin packages (``lendhub connector new``).

:func:`scaffold` renders the templates in ``templates/`` (``string.Template`` files, ``$name``
placeholders) into an installable package: pyproject with the ``lendhub`` entry point, the
connector folder split the style guide prescribes, a working simulator, a quality file, README
and tests, including a conformance subclass that passes untouched.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from string import Template

from core.hookspecs import HOOK_API_VERSION
from core.integrations.base import Capability

from .capabilities import SPECS, CapabilitySpec
from .layout import assignment, class_header, from_import

__all__ = ["NAME_PATTERN", "ScaffoldError", "scaffold", "validate_capability", "validate_name"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

_KEYWORDS = frozenset({"import", "class", "def", "return", "pass", "lambda", "global", "from", "with"})


class ScaffoldError(ValueError):
    """The name, capability or target directory cannot be used; the message says why."""


def validate_name(name: str) -> str:
    """Check a vendor name: lower-case letters, digits and ``_``, starting with a letter."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"name {name!r} must be 2-40 characters of lower-case letters, digits and '_', "
            "starting with a letter (it becomes the package lendhub_<name>), e.g. 'acme' or 'acme_credit'"
        )
    if name in _KEYWORDS:
        raise ScaffoldError(f"name {name!r} is a Python keyword")
    return name


def validate_capability(slug: str) -> Capability:
    """The capability named by ``slug``; ScaffoldError listing the seven when it is none of them."""
    try:
        return Capability(slug)
    except ValueError:
        known = ", ".join(c.value for c in Capability)
        raise ScaffoldError(f"capability {slug!r} is not one of: {known}") from None


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8"))


_SDK_NAMES = (
    "Capability",
    "ConnectorError",
    "ConnectorInfo",
    "HttpConnector",
    "HttpConnectorConfig",
    "SecretStr",
    "SupportLevel",
)
"""What the connector module imports from ``plugins.sdk`` besides its port."""


def _imports(*imports: tuple[str, str]) -> str:
    """``from module import names`` lines for each ``(module, "A, B")``; no line when none."""
    lines = [from_import(module, names.split(", ")) for module, names in imports if names]
    return "\n".join(lines)


def _varying_lines(spec: CapabilitySpec, package: str, prefix: str, cls: str) -> dict[str, str]:
    """The lines whose names or length vary with the capability and the name, in ruff's layout."""
    return {
        "sdk_import": from_import("plugins.sdk", [*_SDK_NAMES, spec.port]),
        "class_header": class_header(cls, ["HttpConnector", spec.port]),
        "config_line": assignment(f"Config: ClassVar[type[{prefix}Config]]", f"{prefix}Config", "    "),
        "simulator_line": assignment(
            "simulator: ClassVar[str | None]", f'"{package}.simulator:create_app"', "    "
        ),
        "connector_models_import": _imports(("schemas.canonical", spec.connector_models)),
        "mapping_models_import": _imports(("schemas.canonical", spec.mapping_models)),
        "lendhub_imports": _imports(
            ("plugins.sdk.sandbox", spec.sandbox_imports),
            ("plugins.testing", "ConnectorTestSuite"),
            ("schemas.canonical", spec.test_models),
        ),
        "package_imports": _imports(
            (f"{package}.connector", cls), (f"{package}.simulator", "SANDBOX_CONFIG")
        ),
    }


def scaffold(name: str, capability: str, directory: Path, *, vendor: str | None = None) -> Path:
    """Write the package ``lendhub-<name>/`` under ``directory`` and return its path.

    Args:
        name: the vendor's short name (``acme``); the package is ``lendhub_<name>``.
        capability: one of the seven capability slugs.
        directory: where the package directory is created.
        vendor: the vendor's display name; ``name`` title-cased when ``None``.

    Raises:
        ScaffoldError: a bad name or capability, or the target directory already exists.
    """
    validate_name(name)
    cap = validate_capability(capability)
    spec = SPECS[cap.value]
    root = Path(directory) / f"lendhub-{name.replace('_', '-')}"
    if root.exists():
        raise ScaffoldError(f"{root} already exists; refusing to overwrite it")
    prefix = "".join(part.capitalize() for part in name.split("_"))
    package = f"lendhub_{name}"
    cls = f"{prefix}{spec.port}"
    values = {
        "name": name,
        "dist_name": name.replace("_", "-"),  # distributions and host names use '-', not '_'
        "hook_api": HOOK_API_VERSION,
        "package": package,
        "prefix": prefix,
        "cls": cls,
        "port": spec.port,
        "vendor": vendor or prefix,
        "capability": cap.value,
        "capability_upper": cap.name,
        "slug": f"{name.replace('_', '-')}-{cap.value.replace('_', '-')}",
        "methods": spec.methods,
        "mappers": spec.mappers,
        "handlers": spec.handlers,
        "call_body": spec.call_body,
        "write_method": spec.write_method,
        "subjects_table": spec.subjects_table,
        "fixture_op": spec.fixture_op,
        "fixture_expr": spec.fixture_expr,
        "connector_imports": spec.connector_imports,
        "test_imports": spec.test_imports,
        "idempotent_writes": "done" if spec.write_method else "{status: exempt, comment: read-only port}",
        **_varying_lines(spec, package, prefix, cls),
    }
    files = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{package}/__init__.py": "package_init.py.tmpl",
        f"{package}/plugin.py": "plugin.py.tmpl",
        f"{package}/client.py": "client.py.tmpl",
        f"{package}/connector.py": "connector.py.tmpl",
        f"{package}/mapping.py": "mapping.py.tmpl",
        f"{package}/simulator.py": "simulator.py.tmpl",
        f"{package}/quality.yaml": "quality.yaml.tmpl",
        f"{package}/README.md": "connector_README.md.tmpl",
        f"tests/test_{name}_conformance.py": "test_conformance.py.tmpl",
        f"tests/test_{name}_mapping.py": "test_mapping.py.tmpl",
    }
    rendered = {path: _template(template).substitute(values) for path, template in files.items()}
    envelope = {"code": 0, "message": "ok", "data": json.loads(spec.fixture_data)}
    rendered[f"tests/fixtures/{name}_{spec.fixture_op}.json"] = (
        json.dumps(envelope, ensure_ascii=False, indent=2) + "\n"
    )
    rendered[f"{package}/py.typed"] = ""
    for relative, text in rendered.items():
        if relative.endswith(".py") and text:
            text = text.rstrip("\n") + "\n"  # fragments end in a newline of their own: one at the end
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root
