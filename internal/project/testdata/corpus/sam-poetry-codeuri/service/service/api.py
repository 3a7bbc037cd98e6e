import six
import attrs


def handler(event, context):
    return {"six": six.__version__}
