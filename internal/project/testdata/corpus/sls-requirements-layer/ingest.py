import structlog


def handler(event, context):
    structlog.get_logger().info("ingest")
    return {"ok": True}
