"""`freshness-py`: good when the data changed within `max_age` seconds of now.

A dataslo policy in Python, built by componentize-py (see README.md beside
this folder). The guest has no filesystem at run time: every import is at top
level, so that it is resolved when the component is built.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types


def _max_age(config: str) -> int:
    try:
        parsed = json.loads(config)
    except ValueError as e:
        raise Err(types.PolicyError_InvalidConfig(f"freshness-py: {e}"))
    age = parsed.get("max_age") if isinstance(parsed, dict) else None
    if not isinstance(age, int) or isinstance(age, bool) or age < 0:
        raise Err(
            types.PolicyError_InvalidConfig("freshness-py: max_age must be whole seconds")
        )
    return age


class Check(exports.Check):
    def describe(self) -> types.PolicyInfo:
        return types.PolicyInfo(
            name="freshness-py",
            version="0.1.0",
            description="Good when now - last_modified <= max_age seconds.",
            slis=["freshness"],
            config_schema='{"type":"object","required":["max_age"],'
            '"properties":{"max_age":{"type":"integer","minimum":0}}}',
        )

    def validate_config(self, config: str) -> None:
        _max_age(config)

    def evaluate(
        self, config: str, observation: types.Observation, now: int
    ) -> list[types.Measurement]:
        max_age = _max_age(config)
        if observation.last_modified is None:
            raise Err(types.PolicyError_MissingMetadata("last_modified"))
        # The evaluation's "now" comes through the contract (0.2.0): no clock read.
        age = (now - observation.last_modified) / 1e9
        return [
            types.Measurement(
                sli="freshness",
                good=1 if age <= max_age else 0,
                total=1,
                value=age,
                detail=f"last modified {age:.0f}s ago, limit {max_age}s",
            )
        ]
