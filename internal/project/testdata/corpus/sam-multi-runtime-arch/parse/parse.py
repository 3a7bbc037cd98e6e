import yaml
import cachetools


def handler(event, context):
    return yaml.safe_load(event.get("doc", "a: 1"))
