import orjson

from lib import shape


def fast(event, context):
    return orjson.dumps(shape(event)).decode()


portable = fast
