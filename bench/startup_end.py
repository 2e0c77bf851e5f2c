"""pre: extra script loaded just after the plugin: append its load time and new modules as JSON."""
import json
import os
import sys
import time

Import("env")  # noqa: F821 - SCons
_ended = time.perf_counter()
_mark = sys.modules.pop("_aws_iot_bench")
if _mark.profiler:
    _mark.profiler.disable()
    _mark.profiler.dump_stats(os.environ["AWS_IOT_BENCH_PROFILE"])
with open(os.environ["AWS_IOT_BENCH_OUT"], "a") as _log:
    _log.write(json.dumps({"seconds": _ended - _mark.started,
                           "new_modules": sorted(set(sys.modules) - _mark.modules)}) + "\n")
