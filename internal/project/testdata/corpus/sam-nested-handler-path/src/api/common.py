import simplejson


def decode(body):
    return simplejson.loads(body)
