import requests


def hello(event, context):
    return {"ok": True}
