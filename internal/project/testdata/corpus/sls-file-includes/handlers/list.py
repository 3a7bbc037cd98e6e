import dateutil


def handler(event, context):
    return []
