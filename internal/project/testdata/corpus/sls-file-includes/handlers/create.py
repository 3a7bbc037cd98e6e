import dateutil.parser


def handler(event, context):
    return {"ok": True}
