import goldleaf

from lib.helper import greet


def handler(event, context):
    return {"statusCode": 200, "body": greet(goldleaf.LEAF)}
