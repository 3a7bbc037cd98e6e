import six


def handle(event, context):
    return six.text_type("users")
