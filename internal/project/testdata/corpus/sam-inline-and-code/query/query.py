import os
import jmespath


def handler(event, context):
    return jmespath.search(os.environ.get("EXPRESSION", "@"), event)
