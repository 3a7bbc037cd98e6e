import simplejson


def parse(event, context):
    return simplejson.dumps(event)
