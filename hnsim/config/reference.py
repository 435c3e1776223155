"""Generate the config reference (docs/config.md) from the schema, so the two never drift apart.

Run ``python -m hnsim.config.reference > docs/config.md``.
"""

from __future__ import annotations

import typing

from pydantic import BaseModel

from hnsim.config.schema import AGE_BANDS, COST_KEYS, NEEDS, PHASES, SETTINGS, SPECIAL_POOLS, SPEND_LINES, Config, Sourced


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        meta = getattr(annotation, "__pydantic_generic_metadata__", None)
        if meta and meta.get("origin") is Sourced:
            return f"{{value: {_type_name(meta['args'][0])}, source}}"
        return annotation.__name__
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        rules = [m for e in extra for m in getattr(e, "metadata", [])]
        text = _type_name(base)
        return f"{text} ({', '.join(str(r) for r in rules)})" if rules else text
    if origin in (dict, list, typing.Union, typing.Literal) or str(origin) == "types.UnionType":
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
        "",
        "## Sections",
    ]
    _section(Config, "", lines, set())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference(), end="")
