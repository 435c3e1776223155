"""Loading configs from YAML, applying scenario overlays, and reporting problems plainly."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from hnsim.config.ensemble import attach_members, drop_member_paths, leaf_paths
from hnsim.config.levers import Lever
from hnsim.config.paths import normalise
from hnsim.config.schema import Config, config_dict
from hnsim.errors import InputError


#: libyaml's safe loader when built (ten times faster on a full config), else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
            data = yaml.load(handle, Loader=_SAFE_LOADER)
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
        # pydantic reports generic and union branches in the path, and "[key]" for a mapping key
        # (the key itself comes just before); they mean nothing to a reader
        if isinstance(item, str) and ("[" in item or item.startswith("dist=") or item in ("function-after", "function-before")):
            continue
        parts.append(str(item))
    return ".".join(parts) or "(top level)"


def validation_problems(exc: ValidationError, source: str) -> list[str]:
    """One line per validation error: the source, the key path, what was wrong and the value given."""
    lines = []
    for err in exc.errors(include_url=False):
        where = _format_location(err["loc"])
        message = err["msg"]
        got = err.get("input")
        shown = "" if err["type"] in ("missing", "extra_forbidden") or isinstance(got, dict) else f" (got {got!r})"
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/config.md for the keys allowed here)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] == "distribution_family":
            shown = f" (got dist: {got.get('dist')!r})" if isinstance(got, dict) else shown
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if err["loc"] and err["loc"][-1] == "[key]":
            shown = ""  # the message names the key
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
    try:
        data = attach_members(data, path)
    except InputError as exc:
        raise ConfigError(exc.problems) from None
    names = [str(path)]
    for overlay in overlays:
        body = read_yaml(Path(overlay))
        data = drop_member_paths(merge_overlay(data, body, str(overlay)), leaf_paths(body))
        names.append(str(overlay))
    if overrides:
        data = apply_overrides(data, overrides)
    return validate(data, " + ".join(names))


def merge_overlay(base: dict[str, Any], overlay: dict[str, Any], source: str) -> dict[str, Any]:
    """:func:`deep_merge` a scenario overlay into config data, refusing a lever the base does not define.

    An overlay switches on or changes the base's levers; a new lever must be given whole, so that a
    misspelt name is one clear line rather than the new lever's missing keys.
    """
    levers = overlay.get("levers")
    known = base.get("levers") if isinstance(base.get("levers"), dict) else {}
    if isinstance(levers, dict):
        required = [name for name, field in Lever.model_fields.items() if field.is_required()]
        problems = []
        for name, body in levers.items():
            if name in known:
                continue
            missing = [key for key in required if not isinstance(body, dict) or key not in body]
            if missing:
                problems.append(
                    f"{source}: levers.{name}: unknown lever '{name}' (known: {', '.join(known) or 'none'}); "
                    f"a new lever needs {', '.join(required)}"
                )
        if problems:
            raise ConfigError(problems)
    return deep_merge(base, overlay)


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set values at dotted paths in a copy of plain config data.

    A path runs through mappings by key and through lists by index (``capacity.expansions[0].places``
    or ``capacity.expansions.0.places``, :mod:`hnsim.config.paths`); every section on the way must
    exist. A new key may be added only at the end of the path. A path the config's posterior
    ensemble also sets is dropped from the ensemble (:mod:`hnsim.config.ensemble`).
    """
    data = copy.deepcopy(data)
    for dotted, value in overrides.items():
        node: Any = data
        keys = normalise(dotted).split(".")
        for depth, key in enumerate(keys):
            where = ".".join(keys[:depth]) or "the top level"
            last = depth == len(keys) - 1
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ConfigError([f"override {dotted}: {where} is a list of {len(node)}; '{key}' is not an index 0..{len(node) - 1}"])
                key = int(key)
            elif not isinstance(node, dict):
                raise ConfigError([f"override {dotted}: {where} is a single value ({node!r}), not a section with '{key}' in it"])
            elif key not in node and not last:
                raise ConfigError([f"override {dotted}: no section '{key}' in {where}"])
            if last:
                node[key] = value
            else:
                node = node[key]
    return drop_member_paths(data, overrides)  # an explicit value wins over an ensemble's members


def config_sha256(config: Config) -> str:
    """A stable hash of the resolved config."""
    text = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
