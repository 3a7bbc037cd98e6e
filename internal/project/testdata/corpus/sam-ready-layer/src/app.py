import tinyhelpers


def handler(event, context):
    return tinyhelpers.greet("lambda")
