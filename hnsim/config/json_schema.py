"""The config's JSON Schema, from the pydantic models, for editors that complete and check YAML as
it is typed (``hnsim schema``; docs/config.md, "Completion in an editor").

Two schemas ship in ``docs/``: ``config.schema.json`` for a whole config, and
``overlay.schema.json`` for a scenario overlay, which gives only the keys it changes (no key is
required). A shipped config names its schema in a first-line comment that the YAML language
server reads::

    # yaml-language-server: $schema=../docs/config.schema.json
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hnsim.config.schema import Config

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The first-line comment naming the schema, relative to a config in configs/ (and one in configs/scenarios/).
MODELINE = "# yaml-language-server: $schema={path}"


def _short_names(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with pydantic's long generic names (``Sourced_Annotated_float__FieldInfo...``)
    replaced by short ones (``Sourced_1``), so an editor's hover text stays readable."""
    defs = schema.get("$defs", {})
    renames, k = {}, 0
    for name in list(defs):
        if len(name) > 40:
            k += 1
            renames[name] = f"{name.split('_')[0]}_{k}"
    text = json.dumps(schema)
    for old, new in renames.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"').replace(f'"{old}":', f'"{new}":')
    return json.loads(text)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a whole config (every section, type, range, required key and description)."""
    schema = _short_names(Config.model_json_schema(mode="validation"))
    return {"$schema": SCHEMA_DIALECT, "title": "hnsim config", **{k: v for k, v in schema.items() if k != "title"},
            "description": "An hnsim configuration (docs/config.md). Every number is a sourced value {value, source}."}


def _optional(node: Any) -> Any:
    """``node`` with every ``required`` list removed, recursively."""
    if isinstance(node, dict):
        return {k: _optional(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_optional(v) for v in node]
    return node


def overlay_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario overlay: the config's keys and types, none of them required
    (an overlay gives only what it changes; unknown keys are still refused)."""
    schema = _optional(copy.deepcopy(config_schema()))
    schema["title"] = "hnsim scenario overlay"
    schema["description"] = "A scenario overlay: the keys of an hnsim config it changes, merged into the base config (docs/levers.md)."
    return schema
