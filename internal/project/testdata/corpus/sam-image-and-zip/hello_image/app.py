import json

from tabulate import tabulate


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"table": tabulate([["hello", "image"]])})}
