from dateutil import parser


def parse(s):
    return parser.isoparse(s)
