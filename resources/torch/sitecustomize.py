"""Loaded at start-up by every Python that runs with PYTHONPATH=<app>/resources/torch (the engine's
processes only). Two jobs:

1. Run the system's own sitecustomize, which this file shadows (Debian's installs an apport hook).
2. Make `python -m torch.distributed.run` (torchrun) work with torch < 2.0 on Python ≥ 3.11. There,
   `Std.from_str("0")` returns None, because Python 3.11 no longer lists the zero flag when iterating an
   IntFlag, so torchrun dies in `to_map` with "'NoneType' object has no attribute 'get'" unless every
   rank's output is redirected to files. Fixed upstream in torch 2.0; the patch is applied only in the
   torchrun launcher process and only when the bug is present.
"""
import importlib.util
import os
import sys


def _run_system_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        directory = os.path.abspath(entry or os.getcwd())
        candidate = os.path.join(directory, "sitecustomize.py")
        if directory != here and os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_system_sitecustomize", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return


def _is_torchrun() -> bool:
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" in argv:
        i = argv.index("-m")
        if i + 1 < len(argv) and argv[i + 1] == "torch.distributed.run":
            return True
    return len(argv) > 1 and os.path.basename(argv[1]) == "torchrun"


def _patch_torchrun_std() -> None:
    import re

    from torch.distributed.elastic.multiprocessing import api

    if api.Std.from_str("0") is not None:
        return  # not affected

    original = api.Std.from_str.__func__

    def from_str(cls, vm):
        if re.match(api._VALUE_REGEX, vm):
            return cls(int(vm))
        if re.match(api._MAPPING_REGEX, vm):
            return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        return original(cls, vm)

    api.Std.from_str = classmethod(from_str)


try:
    _run_system_sitecustomize()
except Exception as exc:  # noqa: BLE001 (never stop the interpreter from starting)
    print(f"ld_torch sitecustomize: the system sitecustomize failed: {exc}", file=sys.stderr)

if _is_torchrun():
    try:
        _patch_torchrun_std()
    except Exception as exc:  # noqa: BLE001
        print(f"ld_torch sitecustomize: could not patch torchrun: {exc}", file=sys.stderr)
