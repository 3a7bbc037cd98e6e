"""Generate differential.json: what pypa/packaging's Metadata.from_email
(validate=True) makes of METADATA variants: the fields lambdapack models, or
the fields it reports invalid.

Run with an interpreter that has packaging installed, from this folder:
    python3 gen_differential.py
"""
import json
import random
import sys

import packaging
from packaging.metadata import Metadata, InvalidMetadata, ExceptionGroup

BASE = [
    "Metadata-Version: 2.1",
    "Name: Sample_Pkg",
    "Version: 1.0.post1",
    "Summary: A sample package",
    "Requires-Dist: requests (>=2.8) ; extra == 'HTTP'",
    "Requires-Dist: idna",
    "Requires-Python: >=3.8",
    "Provides-Extra: HTTP",
    "Author: Someone",
]

LINES = [
    "Metadata-Version: 2.2", "Metadata-Version: 2.4", "Metadata-Version: 1.0", "Metadata-Version: 1.2",
    "Metadata-Version: 2.0", "Metadata-Version: 3.0", "Metadata-Version: x", "Metadata-Version: 2.6",
    "Name: other", "Name: -bad-", "Name: a b", "Name:", "Version: 2", "Version: 1.0-beta", "Version: bogus",
    "Version:", "Summary: second", "Summary: multi", "  line continued", "\tcontinued too",
    "Requires-Dist: zope.interface (>3.5.0)", "Requires-Dist: bad name", "Requires-Dist: x ; os_name == 'nt'",
    "Requires-Dist: y[a,b]>=1,<2", "Requires-Dist: z @ https://h/z.whl", "Requires-Dist: w>=1.0.*",
    "Requires-Python: >=3.6.*", "Requires-Python: ~=3.9", "Requires-Python: bogus",
    "Provides-Extra: Test_Extra", "Provides-Extra: -x", "Provides-Extra: http",
    "Dynamic: Requires-Dist", "Dynamic: version", "Dynamic: Name", "Dynamic: NotAField", "Dynamic: summary",
    "Unknown-Field: whatever", "Classifier: Programming Language :: Python", "Description: from header",
    "not a header line", "", "REQUIRES-DIST: upper", "name: lower",
]


def variant(rng):
    lines = list(BASE)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.5:
            lines.insert(rng.randint(0, len(lines)), rng.choice(LINES))
        elif op < 0.75 and lines:
            del lines[rng.randrange(len(lines))]
        elif lines:
            i = rng.randrange(len(lines))
            lines[i] = lines[i] + rng.choice(["", " ", "\t"])
    sep = rng.choice(["\n", "\n", "\r\n"])
    text = sep.join(lines) + sep
    if rng.random() < 0.3:
        text += sep + "Body text" + sep
    return text


def record(text):
    rec = {"in": text}
    try:
        m = Metadata.from_email(text, validate=True)
    except ExceptionGroup as eg:
        rec["invalid"] = sorted(
            [e.field, str(e)] for e in eg.exceptions if isinstance(e, InvalidMetadata)
        )
        return rec
    rec["metadata_version"] = m.metadata_version
    rec["name"] = m.name
    rec["version"] = str(m.version)
    rec["summary"] = m.summary or ""
    rec["requires_dist"] = [str(r) for r in (m.requires_dist or [])]
    rec["requires_python"] = str(m.requires_python) if m.requires_python is not None else ""
    rec["provides_extra"] = list(m.provides_extra or [])
    rec["dynamic"] = list(m.dynamic or [])
    rec["description"] = m.description or ""
    return rec


def main():
    rng = random.Random(643)
    texts = ["\n".join(BASE) + "\n"] + [variant(rng) for _ in range(1500)]
    out = {
        "generator": "gen_differential.py",
        "packaging": packaging.__version__,
        "python": sys.version.split()[0],
        "files": [record(t) for t in dict.fromkeys(texts)],
    }
    with open("differential.json", "w") as f:
        f.write("{\n")
        for k in ("generator", "packaging", "python"):
            f.write(f"{json.dumps(k)}: {json.dumps(out[k])},\n")
        f.write('"files": [\n')
        f.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in out["files"]))
        f.write("\n]\n}\n")


main()
