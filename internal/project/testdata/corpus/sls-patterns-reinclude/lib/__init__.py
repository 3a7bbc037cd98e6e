def shape(e):
    return {'keys': sorted(e)}
