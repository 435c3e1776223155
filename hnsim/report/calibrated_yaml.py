"""The calibrated config as YAML, keeping the original file's comments, order and layout.

A council's config carries its reasoning in comments as well as in ``source:`` fields. The
calibrated copy is the original file with the fitted values and sources put in place (a
round trip through ruamel.yaml), so a reader can diff the two and see only what the fit changed.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

HEADER = "# Calibrated by hnsim calibrate; every fitted value's source says so.\n"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (dt.date, dt.datetime)) or isinstance(b, (dt.date, dt.datetime)):
        return str(a)[:10] == str(b)[:10]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def _plain(value: Any) -> Any:
    """Plain data as ruamel will write it in block style (new sections)."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _plain(v)
        return out
    if isinstance(value, list):
        return CommentedSeq([_plain(v) for v in value])
    return value


def _move_trailing_comment(node: CommentedMap, old_last: Any, new_last: Any) -> None:
    """A comment after a mapping's last entry (the comment before the next section) belongs after
    the new last entry once keys are appended; ruamel keeps it on the deepest last entry."""
    holder, key = node, old_last
    while isinstance(holder[key], CommentedMap) and len(holder[key]):
        holder, key = holder[key], list(holder[key])[-1]
    tokens = holder.ca.items.get(key)
    if not tokens or len(tokens) < 3 or tokens[2] is None:
        return
    comment = tokens[2]
    text = comment.value
    if "\n\n" not in text and not text.startswith("\n"):  # an end-of-line comment stays where it is
        return
    head, _, tail = text.partition("\n")
    comment.value = head + "\n"
    target, at = node, new_last
    while isinstance(target[at], CommentedMap) and len(target[at]):
        target, at = target[at], list(target[at])[-1]
    target.ca.items[at] = [None, None, type(comment)("\n" + tail, comment.start_mark, None), None]


def _merge(node: Any, new: Any) -> Any:
    """``node`` (round-trip data) updated to equal ``new`` in place where it can, keeping comments."""
    if isinstance(node, CommentedMap) and isinstance(new, dict):
        for key in [k for k in node if k not in new]:
            del node[key]
        last = list(node)[-1] if len(node) else None
        for key, value in new.items():
            if key in node:
                node[key] = _merge(node[key], value)
            else:
                node[key] = _plain(value)
        if last is not None and list(node)[-1] != last:
            _move_trailing_comment(node, last, list(node)[-1])
        return node
    if isinstance(node, CommentedSeq) and isinstance(new, list) and len(node) == len(new):
        for i, value in enumerate(new):
            node[i] = _merge(node[i], value)
        return node
    return node if _same(node, new) else _plain(new)


def calibrated_yaml(data: dict[str, Any], original: str | None = None) -> str:
    """``data`` as YAML: the ``original`` text with its values updated (comments kept) when given,
    else a plain dump; either way with the calibration header."""
    if original is None:
        return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    doc = rt.load(original)
    _merge(doc, data)
    buffer = io.StringIO()
    rt.dump(doc, buffer)
    text = buffer.getvalue()
    first, _, rest = text.partition("\n")
    if text.startswith(HEADER) or (first.startswith("# yaml-language-server:") and rest.startswith(HEADER)):
        return text  # a calibrated config calibrated again keeps one header
    if first.startswith("# yaml-language-server:"):  # an editor reads its schema from the first line only
        return first + "\n" + HEADER + rest
    return HEADER + text
