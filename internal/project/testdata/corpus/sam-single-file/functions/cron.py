import datetime


def handler(event, context):
    return datetime.datetime.now(datetime.timezone.utc).isoformat()
