"""lambdapack's build guard (shipped inside the lambdapack binary).

Imported at start-up by every Python process of a lambdapack build (this
folder is on PYTHONPATH). When LAMBDAPACK_BUILD_ROOTS is set, a PEP 578 audit
hook refuses writes (open for writing, mkdir, rename, remove, chmod, links,
...) outside those folders, so a setup.py that writes outside its build
folder fails instead of escaping. It cannot stop native code or other
programs the build runs (a compiler, a shell): lambdapack checks for those
writes afterwards.
"""
import os
import sys


def _install():
    roots = os.environ.get("LAMBDAPACK_BUILD_ROOTS")
    if not roots:
        return
    allowed = tuple(os.path.realpath(r) for r in roots.split(os.pathsep) if r) + ("/dev",)
    realpath = os.path.realpath
    fspath = os.fspath
    O_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def inside(p):
        if isinstance(p, int) or p is None:
            return True
        try:
            p = fspath(p)
            if isinstance(p, bytes):
                p = p.decode(sys.getfilesystemencoding(), "surrogateescape")
            full = realpath(p)
        except Exception:
            return False
        for r in allowed:
            if full == r or full.startswith(r.rstrip("/") + "/"):
                return True
        return False

    def refuse(event, p):
        raise PermissionError(
            "lambdapack: the build may not %s %r: it is outside the build folder" % (event, p))

    checks = {
        "os.mkdir": (0,), "os.rmdir": (0,), "os.remove": (0,), "os.chmod": (0,),
        "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "os.chflags": (0,),
        "os.rename": (0, 1), "os.replace": (0, 1), "os.link": (1,), "os.symlink": (1,),
        "shutil.rmtree": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
    }

    def hook(event, args):
        if event == "open":
            p, mode, flags = (tuple(args) + (None, None, None))[:3]
            w = False
            if isinstance(mode, str):
                w = any(c in mode for c in "wax+")
            if isinstance(flags, int) and flags & O_WRITE:
                w = True
            if w and not inside(p):
                refuse("write to", p)
            return
        idx = checks.get(event)
        if idx is None:
            return
        for i in idx:
            if i < len(args) and not inside(args[i]):
                refuse(event.split(".", 1)[1], args[i])

    sys.addaudithook(hook)


_install()
del _install
