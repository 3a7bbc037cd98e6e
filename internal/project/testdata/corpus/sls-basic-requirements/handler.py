import requests


def fetch(event, context):
    return {"statusCode": 200, "body": requests.__version__}
