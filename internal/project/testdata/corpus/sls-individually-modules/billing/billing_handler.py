import attrs


def handle(event, context):
    return attrs.__version__
