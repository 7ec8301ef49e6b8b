"""Helpers shared by the emulator tests: a small JSON-schema checker and the OpenAPI reference.

The checker covers the subset the OpenAPI reference and structured-output schemas use (type,
enum, const, properties/required/additionalProperties, items/minItems/maxItems, anyOf/oneOf,
$ref, minimum/maximum, minLength/maxLength), so the tests need no extra dependency; when the
``jsonschema`` package happens to be installed, ``check`` cross-checks with it too.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml

# The Files + Batches subset of OpenAI's public OpenAPI spec, kept with the tests.
REFERENCE = Path(__file__).resolve().parent / "data" / "openai-files-batches.openapi.yaml"

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def errors(value: Any, schema: Any, root: dict[str, Any], path: str = "$",
           *, optional_null: bool = False) -> list[str]:
    """Every violation of ``schema`` by ``value``.

    ``optional_null``: a null is accepted for a property that is not required (and for
    ``nullable: true``), the way the live API sends absent optional fields.
    """
    if schema is True or schema == {}:
        return []
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return errors(value, node, root, path, optional_null=optional_null)
    if value is None and schema.get("nullable"):
        return []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            if any(not errors(value, s, root, path, optional_null=optional_null)
                   for s in schema[key]):
                return []
            return [f"{path}: matches no branch of {key}"]
    out: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is_type(value, k) for k in kinds):
            return [f"{path}: {value!r} is not of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in enum {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} != const {schema['const']!r}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{path}: missing required {name!r}")
        for name, item in value.items():
            if name in props:
                if item is None and optional_null and name not in schema.get("required", []):
                    continue
                out += errors(item, props[name], root, f"{path}.{name}",
                              optional_null=optional_null)
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unexpected property {name!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(item, schema["additionalProperties"], root, f"{path}.{name}",
                              optional_null=optional_null)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{path}: fewer than minItems")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{path}: more than maxItems")
        for i, item in enumerate(value):
            out += errors(item, schema.get("items", {}), root, f"{path}[{i}]",
                          optional_null=optional_null)
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: {value} < minimum")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: {value} > maximum")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{path}: shorter than minLength")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path}: longer than maxLength")
    return out


def check(value: Any, schema: dict[str, Any]) -> None:
    """Assert that ``value`` validates against a standalone JSON schema."""
    problems = errors(value, schema, schema)
    assert not problems, problems
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(value, schema)


@functools.lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return yaml.safe_load(REFERENCE.read_text())


def check_openapi(value: Any, name: str) -> None:
    """Assert ``value`` validates against ``#/components/schemas/<name>`` of the reference."""
    spec = _spec()
    problems = errors(value, {"$ref": f"#/components/schemas/{name}"}, spec,
                      optional_null=True)
    assert not problems, f"{name}: {problems}\n{json.dumps(value, indent=1)[:2000]}"
