"""Generate the config reference (docs/config.md) from the schema, so the two never drift apart.

Run ``python -m hnsim.config.reference > docs/config.md``.
"""

from __future__ import annotations

import types
import typing

from pydantic import AfterValidator, BaseModel

from hnsim.config.base import AgeRange, SumsToOne, Vocabulary
from hnsim.config.schema import (
    AGE_BANDS,
    COST_KEYS,
    DISTRIBUTIONS,
    NEEDS,
    PHASES,
    POST16_DESTINATIONS,
    POST16_GROUPS,
    SETTINGS,
    SHARE_TOLERANCE,
    SPECIAL_POOLS,
    SPEND_LINES,
    Config,
    Distribution,
    FinancialYear,
    Sourced,
)


def _validator_name(extra: list) -> str | None:
    """How a key or row type is described: the vocabulary it draws on, an age range, a share row."""
    for item in extra:
        check = item.func if isinstance(item, AfterValidator) else None
        if isinstance(check, (Vocabulary, AgeRange)):
            return check.what
        if isinstance(check, SumsToOne):
            return "shares summing to 1"
    return None


def _type_name(annotation: object) -> str:
    members = {typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a for a in typing.get_args(annotation)}
    if annotation is Distribution or members == set(DISTRIBUTIONS.values()):
        return "Distribution"
    if annotation is FinancialYear:
        return "financial year"
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        meta = getattr(annotation, "__pydantic_generic_metadata__", None)
        if meta and meta.get("origin") is Sourced:
            return f"{{value: {_type_name(meta['args'][0])}, source}}"
        return annotation.__name__
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        named = _validator_name(extra)
        if named == "shares summing to 1":
            return f"{_type_name(base)} ({named})"
        if named:
            return named
        rules = [m for e in extra for m in getattr(e, "metadata", [])]
        text = _type_name(base)
        return f"{text} ({', '.join(str(r) for r in rules)})" if rules else text
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin in (dict, list, typing.Literal):
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        name = getattr(origin, "__name__", str(origin).replace("typing.", ""))
        return f"{name}[{args}]"
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation))


def _section(model: type[BaseModel], prefix: str, lines: list[str], seen: set[type]) -> None:
    nested = []
    lines.append(f"\n### `{prefix or '(top level)'}`\n")
    if model.__doc__:
        lines.append(" ".join(model.__doc__.split()) + "\n")
    lines.append("| key | type | required | meaning |")
    lines.append("|---|---|---|---|")
    for name, field in model.model_fields.items():
        annotation = field.annotation
        type_text = _type_name(annotation).replace(" | ", " or ")
        lines.append(f"| `{name}` | {type_text} | {'yes' if field.is_required() else 'no'} | {field.description or ''} |")
        for candidate in [annotation, *typing.get_args(annotation)]:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and not getattr(candidate, "__pydantic_generic_metadata__", {}).get("origin"):
                if candidate not in seen:
                    seen.add(candidate)
                    nested.append((candidate, f"{prefix}.{name}" if prefix else name))
    for candidate, path in nested:
        _section(candidate, path, lines, seen)


#: How to name one value of a config: the one syntax of hnsim seek, sweeps, calibration and the appendix.
PATHS = [
    "## Paths",
    "",
    "A *path* names one value of a config: the keys from the top, joined by dots; a list item is picked by its",
    "index from 0, written `[i]` or `.i` (`hnsim/config/paths.py`). `hnsim seek --parameter`, a sweep's",
    "`parameters[].path`, `calibration.free[].path`, overrides and the appendix's parameter table all use it.",
    "",
    "| path | the value |",
    "|---|---|",
    "| `assessment.team_capacity.value` | assessments the team carries at once |",
    "| `capacity.expansions[0].places` (or `capacity.expansions.0.places`) | places added by the first capacity change |",
    "| `levers.special_school_expansion.extra_places[0].places` | the places the first opening of that lever adds |",
    "| `levers.linc_funding.annual_cost_gbp.value` | LINC funding a year |",
    "",
    "**Lever quantities** (`hnsim seek`): a path whose first key is a lever's name is read inside `levers:`, so",
    "`special_school_expansion.extra_places[0].places` is the same as the third row, and the lever is switched on",
    "for the search. Seek these to ask what the council should do from a date on: `capacity.places.value.special_secondary`,",
    "by contrast, rewrites the places the model starts with in April 2014.",
]

#: How to have an editor complete and check a config as it is typed.
EDITORS = [
    "## Completion and checking in an editor",
    "",
    "`hnsim schema --out FILE` writes the config's JSON Schema (from the same pydantic models), and",
    "`hnsim schema --overlay --out FILE` that of a scenario overlay (the same keys, none required). Both ship in",
    "`docs/` as `config.schema.json` and `overlay.schema.json`, and every shipped config names its schema in its",
    "first line, which the YAML language server reads:",
    "",
    "```yaml",
    "# yaml-language-server: $schema=../docs/config.schema.json",
    "```",
    "",
    "In **Visual Studio Code**, install the *YAML* extension (Red Hat); open a config and you get completion of",
    "keys (Ctrl+Space), each key's meaning and unit on hover, and a squiggle under an unknown key, a wrong type or",
    "a value out of range, as you type. Other editors with a YAML language server (Neovim, Emacs, JetBrains IDEs,",
    "Sublime Text via LSP) read the same comment. For a config of your own, put the comment in its first line with",
    "the path to the schema from the config's folder (or write the schema beside it with `hnsim schema`). The",
    "editor checks types and keys; `hnsim check CONFIG` still checks what a schema cannot (shares summing to 1,",
    "dates in order, a lever's costs).",
]


def reference() -> str:
    """The config reference as Markdown."""
    lines = [
        "# Config reference",
        "",
        "Generated from `hnsim/config/schema.py` by `python -m hnsim.config.reference`; do not edit by hand.",
        "",
        "Every number is a *sourced* value `{value: ..., source: \"...\"}`: cite a published statistic or",
        "write `assumption:` and the reasoning. Unknown keys are errors. Rates are hazards per year;",
        "durations are distributions in days (`{dist: fixed|exponential|uniform|triangular|lognormal|gamma, ...}`);",
        "money is pounds a year at the price base year. Financial years are written `2018-19`.",
        "",
        "## Vocabularies",
        "",
        f"- phases: {', '.join(PHASES)} (from national curriculum year: reception starts primary, year 7 secondary, year 12 post16, age 19 post19)",
        f"- needs: {', '.join(NEEDS)}",
        f"- settings (named in a plan): {', '.join(SETTINGS)}",
        f"- cost keys: {', '.join(COST_KEYS)}",
        f"- spend lines: {', '.join(SPEND_LINES)}",
        f"- special place pools: {', '.join(SPECIAL_POOLS)}",
        f"- age bands of the initial caseload: {', '.join(AGE_BANDS)}",
        f"- setting groups at year 12: {', '.join(POST16_GROUPS)}; post-16 destinations: {', '.join(POST16_DESTINATIONS)}",
        "",
        f"A row of shares takes keys from its vocabulary, each share 0..1, and sums to 1 within {SHARE_TOLERANCE:g}; a key left out has share 0.",
        "",
        "## Distributions",
        "",
        "A `Distribution` is `{dist: FAMILY, ...its parameters, source}`, with exactly the family's parameters:",
        "",
    ]
    for name, family in DISTRIBUTIONS.items():
        parameters = ", ".join(f"`{p}`" for p in family.model_fields if p not in ("dist", "source"))
        lines.append(f"- `{name}`: {parameters}. {' '.join((family.__doc__ or '').split())}")
    lines += ["", *PATHS, "", *EDITORS, "", "## Sections"]
    _section(Config, "", lines, set())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference(), end="")
