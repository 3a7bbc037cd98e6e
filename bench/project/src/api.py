import fastapi


def handler(event, context):
    return {"statusCode": 200, "body": fastapi.__version__}
