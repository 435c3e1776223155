"""Loading configs from YAML, applying scenario overlays, and reporting problems plainly."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from hnsim.config.schema import Config, config_dict
from hnsim.errors import InputError


class ConfigError(InputError):
    """A config that cannot be used; ``problems`` holds one line per problem."""


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping, or a ConfigError naming the file (and line) on any problem."""
    if not path.exists():
        raise ConfigError([f"{path}: file not found"])
    if path.is_dir():
        raise ConfigError([f"{path}: is a directory, expected a YAML file"])
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError([f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of sections at the top level"])
    return data


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Merge ``overlay`` into a copy of ``base``: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _format_location(loc: tuple) -> str:
    parts = []
    for item in loc:
        # pydantic reports generic and union branches in the path; they mean nothing to a reader
        if isinstance(item, str) and ("[" in item or item in ("function-after", "function-before")):
            continue
        parts.append(str(item))
    return ".".join(parts) or "(top level)"


def validation_problems(exc: ValidationError, source: str) -> list[str]:
    """One line per validation error: the source, the key path, what was wrong and the value given."""
    lines = []
    for err in exc.errors(include_url=False):
        where = _format_location(err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/config.md for the keys allowed here)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        got = err.get("input")
        shown = "" if err["type"] in ("missing", "extra_forbidden") or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{source}: {where}: {message}{shown}")
    return lines


def validate(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate plain data into a :class:`Config`, or raise :class:`ConfigError`."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, source)) from None


def load_config(path: str | Path, overlays: Iterable[str | Path] = (), overrides: dict[str, Any] | None = None) -> Config:
    """Load a config file, apply scenario overlay files in order, then dotted-path overrides.

    ``overrides`` maps dotted paths (``assessment.team_capacity.value``) to values.
    """
    path = Path(path)
    data = read_yaml(path)
    names = [str(path)]
    for overlay in overlays:
        overlay = Path(overlay)
        data = deep_merge(data, read_yaml(overlay))
        names.append(str(overlay))
    if overrides:
        data = apply_overrides(data, overrides)
    return validate(data, " + ".join(names))


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set values at dotted paths in a copy of plain config data."""
    data = copy.deepcopy(data)
    for dotted, value in overrides.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if isinstance(node, list):
                node = node[int(key)]
                continue
            if key not in node or not isinstance(node[key], (dict, list)):
                raise ConfigError([f"override {dotted}: no section '{key}' in the config"])
            node = node[key]
        node[keys[-1]] = value
    return data


def config_sha256(config: Config) -> str:
    """A stable hash of the resolved config."""
    text = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
