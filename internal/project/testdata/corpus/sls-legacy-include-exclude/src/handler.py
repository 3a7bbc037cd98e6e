import jmespath


def main(event, context):
    return jmespath.search("a", event)
