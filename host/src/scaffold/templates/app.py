"""`{{name}}`: good when a dataset has at least `min_rows` rows.

A dataslo policy in Python, built into a Wasm component by componentize-py
against wit/policy.wit (`dataslo test` builds it). The class `Check`
implements the contract's `check` interface; an error is raised as
`Err(types.PolicyError_InvalidConfig(...))` (or `_MissingMetadata`,
`_Internal`).

The component has NO filesystem at run time: every import must be at the
top of this file, so that componentize-py bundles it when it builds. An
import inside a function fails when the policy runs.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types

CONFIG_SCHEMA = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": ["min_rows"],
        "properties": {
            "min_rows": {"type": "integer", "minimum": 0, "description": "fewest acceptable rows"}
        },
    }
)


def _min_rows(config: str) -> int:
    """The config, strictly: a misspelt key is invalid config, not ignored."""

    def invalid(why: str) -> Err:
        return Err(types.PolicyError_InvalidConfig(f"{{name}}: {why}"))

    try:
        parsed = json.loads(config)
    except ValueError as e:
        raise invalid(f"config is no JSON: {e}")
    if not isinstance(parsed, dict):
        raise invalid("config must be an object")
    for key in parsed:
        if key != "min_rows":
            raise invalid(f"unknown field `{key}`, expected `min_rows`")
    rows = parsed.get("min_rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise invalid("min_rows must be a whole number >= 0")
    return rows


class Check(exports.Check):
    def describe(self) -> types.PolicyInfo:
        return types.PolicyInfo(
            name="{{name}}",
            version="0.1.0",
            description="Good when row_count >= min_rows. Emits the row count.",
            slis=["min_rows"],
            config_schema=CONFIG_SCHEMA,
        )

    def validate_config(self, config: str) -> None:
        _min_rows(config)

    # `now` is the evaluation's time (nanoseconds): read no clock.
    def evaluate(
        self, config: str, observation: types.Observation, now: int
    ) -> list[types.Measurement]:
        min_rows = _min_rows(config)
        rows = observation.row_count
        if rows is None:
            raise Err(types.PolicyError_MissingMetadata("row_count"))
        return [
            types.Measurement(
                sli="min_rows",
                good=1 if rows >= min_rows else 0,
                total=1,
                value=float(rows),
                detail=f"{rows} rows, need {min_rows}",
            )
        ]
