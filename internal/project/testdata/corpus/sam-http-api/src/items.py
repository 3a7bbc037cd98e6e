import json
import os

ITEMS = {"1": {"id": "1", "name": "apple"}}


def handler(event, context):
    table = os.environ["TABLE_NAME"]
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
        item_id = event["pathParameters"]["id"]
        if method == "PUT":
            ITEMS[item_id] = {"id": item_id, **json.loads(event.get("body") or "{}")}
            return {"statusCode": 201, "body": json.dumps(ITEMS[item_id])}
        if item_id not in ITEMS:
            return {"statusCode": 404, "body": json.dumps({"error": "no item " + item_id})}
        return {"statusCode": 200, "body": json.dumps(ITEMS[item_id])}
    # The list route asks for payload format 1.0.
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"table": table, "items": sorted(ITEMS), "path": event["path"]}),
    }
