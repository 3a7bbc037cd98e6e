def handler(event, context):
    # No statusCode: an HTTP API infers a 200 JSON response.
    return {"route": event["routeKey"], "path": event["rawPath"]}
