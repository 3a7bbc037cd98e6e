import boto3


def handler(event, context):
    return {"region": boto3.session.Session().region_name}
