import shared_utils


def main(event, context):
    return {"ts": shared_utils.parse(event.get("ts", "2024-01-01T00:00:00")).isoformat()}
