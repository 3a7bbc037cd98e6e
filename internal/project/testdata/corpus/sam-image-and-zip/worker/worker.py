import os

import attrs


@attrs.define
class Job:
    queue: str


def handler(event, context):
    return attrs.asdict(Job(queue=os.environ.get("QUEUE_URL", "")))
