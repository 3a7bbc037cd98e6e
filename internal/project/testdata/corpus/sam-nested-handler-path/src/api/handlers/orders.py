from api.common import decode


def handler(event, context):
    return [decode(r['body']) for r in event.get('Records', [])]
