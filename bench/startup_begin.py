"""pre: extra script loaded just before the plugin: note the time and the loaded modules.

With AWS_IOT_BENCH_PROFILE set, also profile the plugin's load (cProfile).
"""
import os
import sys
import time
import types

Import("env")  # noqa: F821 - SCons
mark = types.ModuleType("_aws_iot_bench")
mark.modules = set(sys.modules)
mark.profiler = None
if os.environ.get("AWS_IOT_BENCH_PROFILE"):
    import cProfile
    mark.profiler = cProfile.Profile()
sys.modules["_aws_iot_bench"] = mark
if mark.profiler:
    mark.profiler.enable()
mark.started = time.perf_counter()
