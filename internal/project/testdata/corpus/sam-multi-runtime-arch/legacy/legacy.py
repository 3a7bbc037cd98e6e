import yaml
import cachetools


def handler(event, context):
    return yaml.safe_dump(event)
