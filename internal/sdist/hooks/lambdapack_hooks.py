"""lambdapack's PEP 517 hook runner (shipped inside the lambdapack binary).

Run by lambdapack inside a build's own folder, with the build environment's
interpreter:

    python lambdapack_hooks.py HOOK ARGS.json RESULT.json

It imports the backend named by pyproject.toml's [build-system] (or
setuptools' legacy backend when there is none), calls one hook with the
keyword arguments of ARGS.json and writes {"return": value} or
{"unsupported": true} to RESULT.json. The backend's own output goes to
stdout and stderr, which lambdapack keeps the last lines of.

Also: "probe" prints what lambdapack needs to know about this interpreter,
and "sysconfig TARGET.json OUT.py" writes a _sysconfigdata module for a
cross build.
"""
import json
import os
import sys
import traceback

HOOKS = (
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_wheel",
    "build_wheel",
)


def _backend():
    # lambdapack read pyproject.toml's [build-system] table itself.
    bs = json.loads(os.environ.get("LAMBDAPACK_BUILD_SYSTEM") or "{}")
    spec = bs.get("build-backend") or "setuptools.build_meta:__legacy__"
    paths = bs.get("backend-path") or []
    here = os.path.realpath(os.getcwd())
    for p in reversed(paths):
        full = os.path.realpath(os.path.join(here, p))
        if os.path.commonpath([here, full]) != here:
            raise SystemExit("backend-path %r points outside the source tree" % p)
        sys.path.insert(0, full)
    if not paths and bs.get("build-backend") is None:
        # The legacy backend runs setup.py from the source folder.
        sys.path.insert(0, here)
    mod, _, obj = spec.partition(":")
    import importlib

    backend = importlib.import_module(mod)
    for part in obj.split(".") if obj else []:
        backend = getattr(backend, part)
    return backend


def run_hook(name, args_path, result_path):
    if name not in HOOKS:
        raise SystemExit("unknown hook %r" % name)
    with open(args_path) as f:
        kwargs = json.load(f)
    backend = _backend()
    hook = getattr(backend, name, None)
    if hook is None:
        result = {"unsupported": True}
        if name == "get_requires_for_build_wheel":
            result = {"return": []}
    else:
        result = {"return": hook(**kwargs)}
    with open(result_path, "w") as f:
        json.dump(result, f)


def probe():
    import platform
    import sysconfig

    libc, ver = platform.libc_ver()
    print(json.dumps({
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "machine": platform.machine(),
        "libc": libc,
        "libc_version": ver,
        "executable": os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable),
        "include": sysconfig.get_paths()["include"],
        "multiarch": sysconfig.get_config_var("MULTIARCH") or "",
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX") or "",
        "sysconfigdata": sysconfig._get_sysconfigdata_name() if hasattr(sysconfig, "_get_sysconfigdata_name") else "",
        "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    }))


def write_sysconfig(spec_path, out_path):
    """Write the host's build configuration, re-aimed at the target."""
    import pprint
    import sysconfig

    with open(spec_path) as f:
        spec = json.load(f)
    host = sysconfig.get_config_var("MULTIARCH") or ""
    out = {}
    for k, v in sysconfig.get_config_vars().items():
        if isinstance(v, str) and host:
            v = v.replace(host, spec["multiarch"])
        out[k] = v
    out.update(spec["vars"])
    text = "# lambdapack: build configuration for %s (from %s)\nbuild_time_vars = %s\n" % (
        spec["target"], sys.executable, pprint.pformat(out))
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out_path)


def main():
    cmd = sys.argv[1]
    if cmd == "probe":
        probe()
    elif cmd == "sysconfig":
        write_sysconfig(sys.argv[2], sys.argv[3])
    else:
        try:
            run_hook(cmd, sys.argv[2], sys.argv[3])
        except SystemExit:
            raise
        except BaseException:
            traceback.print_exc()
            sys.exit(1)


if __name__ == "__main__":
    main()
