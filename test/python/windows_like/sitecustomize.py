"""Python as CPython on Windows has it, for the plugin's own code only.

Put this folder on PYTHONPATH and list the plugin's folders in WINDOWS_LIKE_ROOTS
(os.pathsep between them). Every `import` statement in a file under those folders then
- fails for the modules Windows' CPython lacks (fcntl, pwd, grp, termios, resource, tty,
  pty), and for any listed in WINDOWS_LIKE_ALSO_MISSING (a test's "not installed");
- gets `os` without fchmod, fchown, getuid/geteuid, killpg, setsid, fork, `signal`
  without SIGKILL, SIGHUP, SIGQUIT, SIGUSR1/2, SIGALRM, SIGCHLD, SIGPIPE, and
  `multiprocessing` without fork / forkserver start methods.

Why only there: the standard library, PlatformIO, SCons and filelock use these modules
themselves on Linux (each has its own Windows branch), so removing them for everyone would
test their portability, not ours. The check is by the file that runs the `import`
statement (builtins.__import__ sees its frame), so it holds for modules already imported
elsewhere, for SCons' exec of the extra script, and for spawned batch workers, which start
with the same environment. importlib.import_module() is not covered.
"""

import builtins
import functools
import os
import sys
import types

ROOTS = tuple(os.path.join(os.path.realpath(r), "") for r in os.environ.get("WINDOWS_LIKE_ROOTS", "").split(os.pathsep)
              if r)
MISSING = {"fcntl", "pwd", "grp", "termios", "resource", "tty", "pty",
           *filter(None, os.environ.get("WINDOWS_LIKE_ALSO_MISSING", "").split(","))}
HIDDEN = {
    "os": {"fchmod", "fchown", "getuid", "geteuid", "killpg", "setsid", "fork"},
    "signal": {"SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE"},
}
WINDOWS_START_METHODS = ["spawn"]


class _Without(types.ModuleType):
    """A view of a real module without some of its attributes."""

    def __init__(self, real, hidden, replaced=None):
        super().__init__(real.__name__, real.__doc__)
        self._real, self._hidden, self._replaced = real, frozenset(hidden), replaced or {}

    def __getattr__(self, name):
        if name in self._hidden:
            raise AttributeError(f"module {self._real.__name__!r} has no attribute {name!r} (as on Windows)")
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._real, name)


def _multiprocessing_view(real):
    def get_context(method=None):
        if method not in (None, "spawn"):
            raise ValueError(f"cannot find context for {method!r} (as on Windows)")
        return real.get_context("spawn")
    return _Without(real, (), {"get_context": get_context,
                               "get_all_start_methods": lambda: list(WINDOWS_START_METHODS),
                               "get_start_method": lambda allow_none=False: "spawn"})


_VIEWS = {}
_real_import = builtins.__import__


def _view(module):
    name = module.__name__
    if name not in _VIEWS:
        _VIEWS[name] = (_multiprocessing_view(module) if name == "multiprocessing"
                        else _Without(module, HIDDEN[name]))
    return _VIEWS[name]


@functools.lru_cache(maxsize=None)
def _ours(filename):
    return os.path.realpath(filename).startswith(ROOTS)


def _caller_file():
    try:
        return sys._getframe(2).f_code.co_filename
    except ValueError:  # called from C with no Python frame (the interpreter's own imports)
        return ""


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and ROOTS and _ours(_caller_file()):
        top = name.partition(".")[0]
        if top in MISSING:
            raise ModuleNotFoundError(f"No module named {top!r} (Windows-like Python: not there)", name=top)
        module = _real_import(name, globals, locals, fromlist, level)
        if getattr(module, "__name__", None) in (*HIDDEN, "multiprocessing"):
            return _view(module)
        return module
    return _real_import(name, globals, locals, fromlist, level)


if ROOTS:
    builtins.__import__ = _import
