"""Generate differential.json: how pypa/packaging parses, prints and
evaluates a corpus of requirement and marker strings (the conformance rows
plus deterministic mutations of them).

Run with an interpreter that has packaging installed, from this folder:
    python3 gen_differential.py packaging
(the folder of pypa/packaging's vectors beside this script).
"""
import json
import random
import sys
from pathlib import Path

import packaging
from packaging.markers import Marker, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement, InvalidRequirement

ENVS = [
    {
        "implementation_name": "cpython", "implementation_version": "3.12.4",
        "os_name": "posix", "platform_machine": "aarch64", "platform_release": "5.10.0-1",
        "platform_system": "Linux", "platform_version": "#1 SMP", "python_full_version": "3.12.4",
        "platform_python_implementation": "CPython", "python_version": "3.12",
        "sys_platform": "linux", "extra": "Test_X",
    },
    {
        "implementation_name": "cpython", "implementation_version": "3.9.0rc1",
        "os_name": "nt", "platform_machine": "AMD64", "platform_release": "10",
        "platform_system": "Windows", "platform_version": "10.0.19041", "python_full_version": "3.9.0rc1+",
        "platform_python_implementation": "CPython", "python_version": "3.9",
        "sys_platform": "win32", "extra": "",
    },
]

ALPHABET = list("'\"()[];,@ \t\\.*=<>!~+-_0123456789abcdefxnrvU") + [
    " in ", " not in ", " and ", " or ", "extra", "os.name", "python_version", "\u00e9", "\u2028", "\n",
    "===", "~=", ".*", "\\x4", "\\x41", "\\N{DASH}", "\\u00e9", "'", '"',
]


# Hand-picked edge cases: Python's Unicode \s and \b, string escapes,
# operators without spaces, odd URLs.
EXTRA_MARKERS = [
    "os_name == 'a\\0b'", "os_name == '\\777'", "os_name == '\\U0010FFFF'", "os_name == '\\U00110000'",
    "os_name == 'a\\\r\nb'", "os_name == 'a\\\nb'", "os_name == 'a\\\rb'", "os_name == 'tab\there'",
    "os_name == '\\a\\b\\f\\v\\t'", "os_name == '\\q'", "os_name == '\\\\'", "os_name == '\x0c'",
    "os_name == '\x00'", "os_name=='x'", "os_name=='x'and os_name=='y'", "(os_name=='x')or(os_name=='y')",
    "os_nameé == 'x'", "éos_name == 'x'", "os_name == 'x' andé os_name == 'y'", "'x' in\u00a0os_name",
    "'x' not\tin os_name", "'x' not  in os_name", "'x' notin os_name", "python_version >= '3.9' or",
    "python_version\u3000>= '3'", "platform_release >= '5.10.0-1'", "platform_release ~= '5.10'",
    "implementation_version == '3.9.0rc1'", "python_full_version == '3.9.0rc1+'", "python_version === '3.12'",
    "python_version === ' 3.12 '", "python_version == '3.*'", "python_version == '3.12.*'", "python_version != '3.1*'",
    "python_version < 'x'", "python_version <= '3.12'", "python_version in '3.12 3.13'", "extra == 'test-x'",
    "extra == 'TEST.x'", "extra != 'test_x'", "'test_x' == extra", "extra in 'test_x'", "extra === 'test-x'",
    "'foo' in extras", "extras == 'x'", "dependency_groups in 'x'", "os_name == 'a\u2028b'", "os_name == 'é'",
    "(((os_name == 'x')))", "os_name == 'x' and (os_name == 'y' or (os_name == 'z'))", "python_version > '3.12.4'",
    "python_full_version > '3.12.4.post1'", "python_full_version >= '3.12.4+local'", "python_full_version == '3.12.4+local'",
]
EXTRA_REQS = [
    "name==\u00a01.0", "name ==\u20031.0", "name\u00a0==1.0", "name==1.0\u2028", "name==1.0\x0b",
    "name===\u00a0x", "name===x\u00a0", "nameé", "name-", "name.", "-name", "_name", "n", "0", "name[é]",
    "name[a-]", "name[a,]", "name[,a]", "name [ a , b ] ( >= 1 , < 2 ) ; os_name == 'x'", "name(>=1)", "name (>=1",
    "name>=1)", "name @ file:///x y", "name @ file:///x ;os_name=='x'", "name @ a;b", "name @ a ;", "name @ a ; ",
    "name@a", "name @", "name @ \t", "name==1.0.*", "name==1.0.post1.*", "name~=1", "name~=1.0.*", "name>=1.0.*",
    "name==1.0+abc", "name!=1.0+ABC.1", "name<=1.0+abc", "name>=V1.0", "name>=1.0RC1", "name>=1!2.0",
    "name ===\t1.0", "name>=1,", "name>=1,,<2", "name>=1 ,<2", "name>=1, <2;", "name>=1; ", "name; ", "name ;os_name=='x'",
    "NAME[Foo_Bar,foo-bar]", "name[b,a,b]", "name>=2,<3,>=2", "name==1.0,==1.0.0",
]


def collect_seeds(conf):
    markers, reqs = set(), set()
    for name in ("test_markers.json", "test_requirements.json"):
        data = json.loads((conf / name).read_text())
        for t in data["tests"]:
            for b in t["parametrize"]:
                for c in b["cases"]:
                    for k, v in c.items():
                        if not isinstance(v, str):
                            continue
                        if name == "test_markers.json" and k in ("marker_string", "expression", "expected"):
                            markers.add(v)
                        if name == "test_requirements.json" and k in ("dep1", "dep2", "input_req", "norm_req", "req_str", "to_parse", "requirement"):
                            reqs.add(v)
                        if name == "test_requirements.json" and k == "marker" and v:
                            markers.add(v.replace("{ws}", " "))
            for bv in t["body_vectors"]:
                if bv.get("kind") == "call" and bv.get("func") in ("Marker", "Requirement"):
                    a = bv["args"][0] if bv.get("args") else None
                    if isinstance(a, str) and "namespace(" not in a:
                        (markers if bv["func"] == "Marker" else reqs).add(a)
    markers |= set(EXTRA_MARKERS)
    reqs |= set(EXTRA_REQS)
    reqs |= {"name; " + m for m in markers}
    return sorted(markers), sorted(reqs)


def mutate(rng, s):
    s = list(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        pos = rng.randint(0, len(s))
        if op < 0.4:
            s[pos:pos] = list(rng.choice(ALPHABET))
        elif op < 0.7 and s:
            del s[min(pos, len(s) - 1)]
        elif s:
            s[min(pos, len(s) - 1)] = rng.choice(ALPHABET)
    return "".join(s)


def marker_record(s):
    rec = {"in": s}
    try:
        m = Marker(s)
    except InvalidMarker as e:
        rec["error"] = str(e)
        return rec
    try:
        rec["str"] = str(m)
    except ValueError:
        rec["str_error"] = True
    rec["eval"] = []
    for env in ENVS:
        try:
            rec["eval"].append(str(m.evaluate(env)))
        except UndefinedComparison:
            rec["eval"].append("UndefinedComparison")
        except (UndefinedEnvironmentName, KeyError):
            rec["eval"].append("UndefinedEnvironmentName")
    return rec


def req_record(s):
    rec = {"in": s}
    try:
        r = Requirement(s)
    except InvalidRequirement as e:
        rec["error"] = str(e)
        return rec
    try:
        rec["str"] = str(r)
    except ValueError:
        rec["str_error"] = True
    rec["name"] = r.name
    rec["extras"] = sorted(r.extras)
    rec["url"] = r.url or ""
    return rec


def main():
    conf = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "packaging")
    rng = random.Random(508)
    markers, reqs = collect_seeds(conf)
    m_in = list(markers) + [mutate(rng, rng.choice(markers)) for _ in range(3000)]
    r_in = list(reqs) + [mutate(rng, rng.choice(reqs)) for _ in range(3000)]
    out = {
        "generator": "gen_differential.py",
        "packaging": packaging.__version__,
        "python": sys.version.split()[0],
        "envs": ENVS,
        "markers": [marker_record(s) for s in dict.fromkeys(m_in)],
        "requirements": [req_record(s) for s in dict.fromkeys(r_in)],
    }
    # One record per line keeps diffs of a regeneration readable.
    lines = ["{"]
    for key in ("generator", "packaging", "python", "envs"):
        lines.append(f"{json.dumps(key)}: {json.dumps(out[key])},")
    for key in ("markers", "requirements"):
        lines.append(f"{json.dumps(key)}: [")
        recs = [json.dumps(r, separators=(",", ":")) for r in out[key]]
        lines.append(",\n".join(recs))
        lines.append("]," if key == "markers" else "]")
    lines.append("}")
    Path("differential.json").write_text("\n".join(lines) + "\n")


main()
