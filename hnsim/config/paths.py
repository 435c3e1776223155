"""Paths into a config: one syntax for overrides, sweeps, goal-seek, calibration and the appendix.

A path names one value by the keys from the top of the config, joined by dots; a list item is
picked by its index, written either ``[i]`` or ``.i``, counting from 0::

    assessment.team_capacity.value
    capacity.expansions[0].places            (the same as capacity.expansions.0.places)
    levers.special_school_expansion.extra_places[0].places

Goal-seek looks for a *lever quantity* first: a path whose first key names a lever of the config
is read inside ``levers:``, so ``special_school_expansion.extra_places[0].places`` is the places
that lever opens, from its opening date on. A path that starts at a top-level section
(``capacity.places.value.special_secondary``) changes that input from the first simulated day.
"""

from __future__ import annotations

import re
from typing import Any

_INDEX = re.compile(r"\[(\d+)\]")
#: Sections of a config, in the order of the schema (a path starting with one is a config path).
TOP_LEVEL = (
    "meta", "simulation", "initial_population", "identification", "sen_support", "alternative_provision", "assessment",
    "placement", "ehcp", "capacity", "costs", "finance", "trends", "status_quo", "levers", "calibration",
)


def normalise(path: str) -> str:
    """The dotted form of a path: ``a.b[0].c`` becomes ``a.b.0.c``; surrounding spaces dropped."""
    return _INDEX.sub(r".\1", path.strip()).strip(".")


def display(path: str) -> str:
    """The bracketed form of a path, as the appendix prints it: ``a.b.0.c`` becomes ``a.b[0].c``."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", normalise(path))


def lever_quantity(data: dict[str, Any], path: str) -> tuple[str, str | None]:
    """Resolve a goal-seek path: ``(config path, the lever it belongs to or None)``.

    A path whose first key is a lever of ``data`` (plain config data) is a lever quantity and
    gains the ``levers.`` prefix; one that starts with ``levers.`` names its lever too; any other
    path is returned as it is (dotted), with no lever.
    """
    dotted = normalise(path)
    first, _, rest = dotted.partition(".")
    levers = data.get("levers") if isinstance(data.get("levers"), dict) else {}
    if first in levers and first not in TOP_LEVEL:
        return f"levers.{dotted}", first
    if first == "levers" and rest:
        name = rest.split(".")[0]
        return dotted, name if name in levers else None
    return dotted, None
