"""An example Lambda handler: validates its event with pydantic and summarises
a list of numbers with numpy."""

import json

import numpy as np
from pydantic import BaseModel, Field


class Event(BaseModel):
    name: str = "world"
    values: list[float] = Field(default_factory=list)


def handler(event, context):
    ev = Event.model_validate(event or {})
    arr = np.asarray(ev.values, dtype=float)
    body = {
        "greeting": f"hello, {ev.name}",
        "count": int(arr.size),
        "mean": float(arr.mean()) if arr.size else None,
        "numpy": np.__version__,
    }
    return {"statusCode": 200, "body": json.dumps(body, sort_keys=True)}
