import os

import attrs


@attrs.define
class Order:
    id: str


def handler(event, context):
    from aws_lambda_powertools import Logger  # from the Powertools layer

    Logger().info('order')
    return attrs.asdict(Order(id=event.get('id', '1')))
