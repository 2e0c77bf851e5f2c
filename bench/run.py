"""Benchmarks of the AWS IoT plugin: print tables and write docs/benchmarks.md.

    bash bench/run            (sets up like the tests, then runs this file)
    .venv/bin/python bench/run.py [--quick] [--out docs/benchmarks.md]

Sections (issue 5): no-op build overhead, plugin start-up, one device and batches
against the openssl route, and what the board pays (bytes, LittleFS blocks, the
handshake with an RSA-2048 versus an EC P-256 key). Every figure is a median over
several runs with min and max. A benchmark, not a test: goals are reported as met
or missed, a section that cannot run here says why, and the exit status is 0.
All PKI is generated at run time in a temporary folder.
"""

import argparse
import datetime
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
SCRIPT = REPO / "extra_scripts" / "aws_iot.py"
sys.path.insert(0, str(REPO / "extra_scripts"))
sys.path.insert(0, str(REPO / "test" / "python"))

import piohelpers  # noqa: E402

ENDPOINT = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"
DOTENV = f"WIFI_SSID=bench-net\nWIFI_PASSWORD=bench-password\nAWS_IOT_ENDPOINT={ENDPOINT}\n" \
         "AWS_IOT_THING_NAME=bench-thing\n"
SOURCES = {
    "main.c": '#include "secrets.h"\nint util(void);\n'
              "int main(void) { return (sizeof(WIFI_SSID) > 1 && util()) ? 0 : 1; }\n",
    "util.c": "int util(void) { return 1; }\n",
}
STATIC_SECRETS = ('#pragma once\n#define WIFI_SSID "bench-net"\n#define WIFI_PASSWORD "bench-password"\n'
                  f'#define AWS_IOT_ENDPOINT "{ENDPOINT}"\n')


# ---- measuring -----------------------------------------------------------------------------

class Stat:
    def __init__(self, samples):
        self.samples = list(samples)
        self.median = statistics.median(self.samples)
        self.min, self.max = min(self.samples), max(self.samples)
        self.n = len(self.samples)

    def ms(self, digits=0):
        return f"{self.median * 1e3:.{digits}f} ({self.min * 1e3:.{digits}f}–{self.max * 1e3:.{digits}f})"

    def s(self, digits=2):
        return f"{self.median:.{digits}f} ({self.min:.{digits}f}–{self.max:.{digits}f})"

    def count(self):
        return f"{self.median:,.0f} ({self.min:,.0f}–{self.max:,.0f})"


def run(cmd, check=True, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def timed(cmd, before=None, **kwargs):
    """Seconds one run of cmd takes (wall clock); `before()` runs first, untimed."""
    if before:
        before()
    started = time.perf_counter()
    result = run(cmd, **kwargs)
    return time.perf_counter() - started, result


def cli_environ(**extra):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_IOT_", "WIFI_"))}
    environ.update(extra)
    return environ


# ---- the report ----------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.parts = []

    def heading(self, text):
        print(f"\n== {text} ==")
        self.parts.append(f"\n## {text}\n")

    def para(self, text):
        print(text)
        self.parts.append(text + "\n")

    def table(self, header, rows):
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        for row in [header] + rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.parts.append("\n".join(lines) + "\n")

    def text(self):
        return "\n".join(self.parts)


def goal(met):
    return "**met**" if met else "**missed**"


# ---- machine -------------------------------------------------------------------------------

def machine_rows():
    def first(path, key):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version(cmd):
        try:
            return run(cmd, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "not installed"

    def deb(package):
        out = run(["dpkg-query", "-W", "-f=${Version}", package], check=False).stdout.strip()
        return out or "not installed"

    import cryptography
    import platformio
    import SCons
    from cryptography.hazmat.backends.openssl.backend import backend
    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    return [
        ("CPU", first("/proc/cpuinfo", "model name")),
        ("cores (os.cpu_count)", str(os.cpu_count())),
        ("memory", f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "?"),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", platform.python_version()),
        ("PlatformIO Core", platformio.__version__),
        ("SCons", SCons.__version__),
        ("OpenSSL (openssl command)", version(["openssl", "version"])),
        ("cryptography", f"{cryptography.__version__} on {backend.openssl_version_text()}"),
        ("BearSSL (libbearssl-dev)", deb("libbearssl-dev")),
        ("mosquitto", deb("mosquitto")),
        ("valgrind", version(["valgrind", "--version"])),
    ]


# ---- PKI made at run time ------------------------------------------------------------------

class Pki:
    """An AWS-like issuing CA (never handed out, as AWS's is not) and RSA-2048 device identities.

    Keys come from a small pool: generating 1,000 RSA keys would dominate the run, and
    the work measured per device (parse, check, convert) does not depend on which key it is.
    """

    def __init__(self, pool=16):
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from pkitools import certificate
        self.certificate = certificate
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = certificate(self.ca_key, "Bench AWS-like issuing CA", ca=True)
        self.keys = [rsa.generate_private_key(65537, 2048) for _ in range(pool)]
        self.amazon_root_ca1 = amazon_root_ca1_pem()

    def write_device(self, folder, index):
        """AWS IoT's download: <id>-certificate.pem.crt, -private.pem.key, -public.pem.key, AmazonRootCA1.pem."""
        import hashlib

        from cryptography.hazmat.primitives import serialization
        from pkitools import key_pem, pem
        key = self.keys[index % len(self.keys)]
        cert = self.certificate(key, f"bench-thing-{index}", issuer_key=self.ca_key, issuer_name=self.ca.subject)
        cert_id = hashlib.sha256(f"bench-{index}".encode()).hexdigest()
        folder = Path(folder)
        folder.mkdir(parents=True)
        (folder / f"{cert_id}-certificate.pem.crt").write_bytes(pem(cert))
        (folder / f"{cert_id}-private.pem.key").write_bytes(key_pem(key, "traditional"))
        (folder / f"{cert_id}-public.pem.key").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        (folder / "AmazonRootCA1.pem").write_bytes(self.amazon_root_ca1)
        return folder


def amazon_root_ca1_pem():
    """AmazonRootCA1.pem as AWS hands it out, from certifi's bundle (the plugin's own source of it)."""
    from espaws.identity import amazon_roots
    from cryptography.hazmat.primitives import serialization
    label, cert = amazon_roots.load()[0]
    assert label == "Amazon Root CA 1"
    return cert.public_bytes(serialization.Encoding.PEM)


# ---- 1. no-op build overhead ---------------------------------------------------------------

def pio(project, *args, core):
    # PYTHONDONTWRITEBYTECODE off (piohelpers sets it for tests): a user's PlatformIO keeps .pyc files.
    return piohelpers.run_pio(project, *args, core_dir=core, env={"PYTHONDONTWRITEBYTECODE": ""})


def timed_pio(project, *args, core):
    started = time.perf_counter()
    result = pio(project, *args, core=core)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"`pio {' '.join(args)}` failed in {project}:\n{piohelpers.output(result)}")
    return seconds, piohelpers.count_compiled(result)


def library_without_plugin(work):
    """The repository's device library with no build.extraScript: the lib_deps form minus the plugin."""
    folder = work / "library-without-plugin"
    shutil.copytree(REPO / "lib", folder / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((REPO / "library.json").read_text())
    del manifest["build"]["extraScript"]
    (folder / "library.json").write_text(json.dumps(manifest, indent=2))
    return folder


def make_projects(work, pki):
    """{form: project}: the same sources with the plugin as a pre: script, as a library (one lib_deps
    line), the library without its plugin, and neither (the last two with a static include/secrets.h)."""
    forms = {
        "pre: script": piohelpers.env_options("espressif8266", extra_scripts=[piohelpers.plugin_extra_script()]),
        "lib_deps": piohelpers.env_options("espressif8266", lib_deps=piohelpers.library_uri(REPO)),
    }
    projects = {}
    for index, (form, options) in enumerate(forms.items()):
        project = piohelpers.write_project(work / f"with-plugin-{index}", {"esp8266": options},
                                           sources=SOURCES, files={".env": DOTENV})
        piohelpers.provide_pubsubclient(project, "esp8266")
        pki.write_device(project / "certs", 0)
        projects[form] = project
    library = library_without_plugin(work)
    projects["lib_deps, plugin removed"] = piohelpers.write_project(
        work / "library-only", {"esp8266": piohelpers.env_options("espressif8266", lib_deps=piohelpers.library_uri(library))},
        sources=SOURCES, files={"include/secrets.h": STATIC_SECRETS})
    piohelpers.provide_pubsubclient(projects["lib_deps, plugin removed"], "esp8266")
    projects["without"] = piohelpers.write_project(
        work / "without-plugin", {"esp8266": piohelpers.env_options("espressif8266")},
        sources=SOURCES, files={"include/secrets.h": STATIC_SECRETS})
    return projects


def instructions(project, core):
    """Instructions one `pio run` executes, summed over its processes (pio, SCons, the tools), as
    valgrind's cachegrind counts them; unlike wall time they repeat to a few parts in 100,000."""
    with tempfile.TemporaryDirectory() as out:
        environ = piohelpers.pio_environ(core, {"PYTHONDONTWRITEBYTECODE": "", "PYTHONHASHSEED": "0"})
        run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
             f"--cachegrind-out-file={out}/cg.%p", sys.executable, "-m", "platformio", "run"],
            cwd=project, env=environ, timeout=900)
        return sum(int(line.split()[1]) for file in Path(out).glob("cg.*")
                   for line in file.read_text().splitlines() if line.startswith("summary:"))


PLUGIN_FORMS = {"pre: script": "without", "lib_deps": "lib_deps, plugin removed"}  # form: its baseline


def section_noop(report, work, pki, core, runs):
    report.heading("1. No-op build overhead")
    projects = make_projects(work / "noop", pki)
    second = {}
    for form, project in projects.items():
        timed_pio(project, "run", core=core)               # first build
        second[form] = timed_pio(project, "run", core=core)[1]  # the second run: nothing to compile
        timed_pio(project, "run", "-t", "buildfs", core=core)
        timed_pio(project, "run", core=core)               # back to the state a no-op run leaves
    report.para("A two-file project on the offline stand-in platform (test/fixtures/platform-espressif8266, "
                "host gcc, LittleFS image with littlefs-python), everything up to date; the plugin's projects "
                "have an AWS-style certs/ folder and a .env, the others a static include/secrets.h. The plugin "
                "is loaded as a `pre:` extra script, or with the device library through one "
                "`lib_deps = symlink://...` line; its baselines are the same project without the extra script, "
                "and the same library with its `build.extraScript` removed (what the plugin itself costs).")
    counts = {}
    if shutil.which("valgrind"):
        counts = {form: instructions(project, core) for form, project in projects.items()}
        against = {**PLUGIN_FORMS, "lib_deps, plugin removed": "without"}  # the last: the device library alone
        rows = [[f"`pio run`, {form}", f"{counts[form] / 1e6:,.1f}",
                 f"{counts[form] / counts[against[form]]:.4f} (against {against[form]})" if form in against else ""]
                for form in projects]
        report.para("Instructions executed by one no-op `pio run`, every process together (valgrind "
                    "--tool=cachegrind, PYTHONHASHSEED=0, .pyc files in place), in millions. The count repeats "
                    "to a few parts in 100,000 from run to run, so a ratio of 1.02 can be told from 1.03; it "
                    "leaves out the time the kernel spends (a few file reads and stats for the plugin).")
        report.table(["command", "instructions (M)", "ratio"], rows)
    else:
        report.para("valgrind is not installed: no instruction counts (`apt install valgrind`).")
    samples = {(form, kind): [] for form in projects for kind in ("run", "fs")}
    compiled = {key: 0 for key in samples}
    for _ in range(runs):  # interleaved, so drifts of the machine hit every form alike
        for form, project in projects.items():
            for kind, args in (("run", ("run",)), ("fs", ("run", "-t", "buildfs"))):
                seconds, count = timed_pio(project, *args, core=core)
                samples[form, kind].append(seconds)
                compiled[form, kind] += count
    stats = {key: Stat(values) for key, values in samples.items()}
    report.para(f"Wall time of the whole `pio run` process, {runs} interleaved runs each, ms, median (min–max). "
                "On this shared 2-core machine runs differ by ±50 ms, more than the plugin's cost.")
    ratios = {}
    rows = []
    for form, baseline in PLUGIN_FORMS.items():
        for kind, label in (("run", "`pio run`"), ("fs", "`pio run -t buildfs`")):
            ratio = stats[form, kind].median / stats[baseline, kind].median
            ratios[form, kind] = ratio
            rows.append([f"{label}, plugin as {form}", stats[form, kind].ms(), f"{stats[baseline, kind].ms()} "
                         f"({baseline})", f"{ratio:.3f}", f"{compiled[form, kind]}" + (
                             f" (2nd run: {second[form]})" if kind == "run" else "")])
    rows.append(["`pio run`, the library without its plugin", stats["lib_deps, plugin removed", "run"].ms(),
                 f"{stats['without', 'run'].ms()} (without)",
                 f"{stats['lib_deps, plugin removed', 'run'].median / stats['without', 'run'].median:.3f}", ""])
    report.table(["command", "with", "baseline", "ratio", "files compiled in no-op runs"], rows)
    measure = "instructions" if counts else "wall time (no valgrind here)"
    overhead = ({form: counts[form] / counts[baseline] for form, baseline in PLUGIN_FORMS.items()} if counts
                else {form: ratios[form, "run"] for form in PLUGIN_FORMS})
    met = all(overhead[form] <= 1.02 and second[form] == 0 and compiled[form, "run"] == 0 for form in PLUGIN_FORMS)
    report.para(f"Goal (no-op `pio run` with the plugin ≤ 1.02 × without it, both forms, judged on {measure}; zero "
                f"recompiles): {goal(met)} (pre: script {overhead['pre: script']:.4f}, lib_deps "
                f"{overhead['lib_deps']:.4f}). `-t buildfs` with the plugin also re-checks certs/ before the image "
                "(the image must hold the current files), and every side rebuilds the image itself every time.")
    return {"ratio_run": overhead["pre: script"], "ratio_run_lib": overhead["lib_deps"]}


# ---- 2. plugin start-up --------------------------------------------------------------------

PROFILED = [  # (label, function name, file suffix)
    ("import espaws_scons (the glue, and the espaws modules it needs)", "<module>", "espaws_scons.py"),
    ("install_requirements (find_spec of cryptography, certifi, dotenv, filelock)", "install_requirements",
     "espaws_scons.py"),
    ("declare (options, nodes; custom targets only when named or listed)", "declare", "espaws_scons.py"),
    ("  env.GetProjectOptions (the env's section, once)", "GetProjectOptions", ""),
    ("  env.Command ×2 (secrets.h, prepared.txt)", "Command", "Environment.py"),
    ("  env.AddCustomTarget (none on a no-op run)", "AddCustomTarget", ""),
]


def import_times(runs):
    """ms to import what aws_iot.py imports at load, in a fresh interpreter that has SCons loaded."""
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import SCons.Script, SCons.Errors, hashlib, "
            "subprocess, functools, importlib.util; t = time.perf_counter(); "
            "import espaws_scons; "
            "t1 = time.perf_counter(); import dotenv; t2 = time.perf_counter(); "
            "print((t1 - t) * 1e3, (t2 - t1) * 1e3, 'cryptography' in sys.modules)")
    own, dotenv, heavy = [], [], False
    for _ in range(runs):
        out = run([sys.executable, "-c", code, REPO / "extra_scripts"]).stdout.split()
        own.append(float(out[0]) / 1e3)
        dotenv.append(float(out[1]) / 1e3)
        heavy = heavy or out[2] == "True"
    return Stat(own), Stat(dotenv), heavy


def profile_breakdown(path):
    stats = pstats.Stats(str(path))
    entries = stats.stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = None
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in entries.items():
        if name == "<module>" and file.endswith("aws_iot.py"):
            total = ct
    rows = []
    for label, func, suffix in PROFILED:
        ct = sum(v[3] for (file, _l, name), v in entries.items() if name == func and file.endswith(suffix))
        rows.append((label, ct))
    return total, rows


def section_startup(report, work, pki, core, runs):
    report.heading("2. Plugin start-up on a no-op build")
    scripts = [f"pre:{BENCH / 'startup_begin.py'}", piohelpers.plugin_extra_script(), f"pre:{BENCH / 'startup_end.py'}"]
    project = piohelpers.write_project(
        work / "startup", {"esp8266": piohelpers.env_options("espressif8266", extra_scripts=scripts)},
        sources=SOURCES, files={".env": DOTENV})
    pki.write_device(project / "certs", 0)
    log = work / "startup.jsonl"
    environ = {"AWS_IOT_BENCH_OUT": str(log), "PYTHONDONTWRITEBYTECODE": ""}
    for _ in range(2):  # build, then a no-op run that also leaves the .pyc files in place
        result = piohelpers.run_pio(project, "run", core_dir=core, env=environ)
        if result.returncode != 0:
            raise RuntimeError(piohelpers.output(result))
    log.write_text("")
    for _ in range(runs):
        piohelpers.run_pio(project, "run", core_dir=core, env=environ)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    load = Stat([r["seconds"] for r in records])
    new_modules = records[-1]["new_modules"]
    profile = work / "startup.prof"
    piohelpers.run_pio(project, "run", core_dir=core, env={**environ, "AWS_IOT_BENCH_PROFILE": str(profile)})
    total, rows = profile_breakdown(profile)
    own, dotenv, heavy = import_times(runs)

    report.para(f"Time from the extra script's load to its return, measured inside `pio run` by two "
                f"`pre:` scripts around it (bench/startup_begin.py, startup_end.py), nothing changed, "
                f".pyc files in place; {runs} runs, ms, median (min–max).")
    plugin_modules = [m for m in new_modules if not m.startswith("_aws_iot_bench")]
    report.table(["what", "ms"], [
        ["load → return of extra_scripts/aws_iot.py (whole)", load.ms(1)],
        ["import of espaws_scons and the espaws modules it needs (fresh interpreter, SCons loaded)",
         own.ms(1)],
        ["import of python-dotenv, which the load avoids (.env is hashed; it is parsed only when a step runs)", dotenv.ms(1)],
    ])
    report.para(f"Modules the plugin's load adds to the process ({len(plugin_modules)}): "
                f"{', '.join(f'`{m}`' for m in plugin_modules)}. `cryptography` loaded at start-up: "
                f"{'yes' if heavy or any(m.startswith('cryptography') for m in new_modules) else 'no'}; "
                f"certifi: {'yes' if any(m.startswith('certifi') for m in new_modules) else 'no'}.")
    if total:
        report.para("Where it goes, from one run under cProfile (profiling inflates every figure; the share "
                    "is what counts):")
        report.table(["part", "profiled ms", "share"],
                     [[label, f"{ct * 1e3:.1f}", f"{ct / total:.0%}"] for label, ct in rows]
                     + [["whole load (profiled)", f"{total * 1e3:.1f}", "100%"]])
    report.para(f"Goal (under 50 ms): {goal(load.median < 0.050)} (median {load.median * 1e3:.1f} ms).")
    return {"load_ms": load.median * 1e3}


# ---- 3. one device, then batches -----------------------------------------------------------

def section_devices(report, work, pki, runs, sizes, batch_runs):
    report.heading("3. One device end to end, then batches, against the openssl route")
    one = work / "one-device"
    pki.write_device(one / "certs", 1)
    (one / ".env").write_text(DOTENV)
    certs = sorted((one / "certs").iterdir())
    cert = next(p for p in certs if p.name.endswith("-certificate.pem.crt"))
    key = next(p for p in certs if p.name.endswith("-private.pem.key"))

    def clean():
        for sub in ("data", ".pio", "include", "manual"):
            shutil.rmtree(one / sub, ignore_errors=True)
        (one / "manual").mkdir()

    cli = [sys.executable, SCRIPT, "prepare", "--project-dir", one, "--secrets-out", one / "include" / "secrets.h"]
    manual = ["bash", "-c", 'set -e; cd "$1"; openssl x509 -in "$2" -outform DER -out manual/cert.der; '
              'openssl x509 -in certs/AmazonRootCA1.pem -outform DER -out manual/ca.der; '
              'openssl rsa -in "$3" -outform DER -out manual/private.der 2>/dev/null', "-", one, cert, key]
    cli_s, manual_s = [], []
    for _ in range(runs):
        cli_s.append(timed(cli, before=clean, env=cli_environ())[0])
        manual_s.append(timed(manual, before=clean)[0])
    run(cli, env=cli_environ())
    same = all((one / "data" / n).read_bytes() == (one / "manual" / n).read_bytes()
               for n in ("ca.der", "cert.der", "private.der"))
    cli_stat, manual_stat = Stat(cli_s), Stat(manual_s)
    report.para(f"One RSA-2048 device as AWS IoT hands it out (certificate, private key, public key, "
                f"AmazonRootCA1.pem) in certs/, a .env with the secrets; fresh outputs every run, {runs} runs, "
                f"ms, median (min–max).")
    report.table(["route", "what it does", "ms"], [
        ["`aws_iot.py prepare --secrets-out ...`", "classify, validate, ca.der + cert.der + private.der, "
         "secrets.h; one Python process", cli_stat.ms()],
        ["openssl by hand", "`openssl x509 -outform DER` ×2, `openssl rsa -outform DER`; no checks, "
         "no secrets.h", manual_stat.ms()],
    ])
    report.para(f"The DER files of both routes are byte-identical: {'yes' if same else 'NO'}. For one device "
                f"the command line costs {cli_stat.median / manual_stat.median:.1f}× the three openssl "
                "processes: Python's and cryptography's start-up, paid once per run; the batches below "
                "pay it once for all devices.")

    # Batches.
    largest = max(sizes)
    all_devices = work / f"devices-{largest}"
    for index in range(largest):
        pki.write_device(all_devices / f"thing-{index:04d}", index)
    sets = {}
    for size in sizes:
        if size == largest:
            sets[size] = all_devices
        else:
            sets[size] = work / f"devices-{size}"
            sets[size].mkdir()
            for index in range(size):
                (sets[size] / f"thing-{index:04d}").symlink_to(all_devices / f"thing-{index:04d}")
    out = work / "batch-out"

    def fresh():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()

    def openssl_loop(devices, jobs):
        folders = sorted(str(p) for p in devices.iterdir())
        chunks = [folders[i::jobs] for i in range(jobs)]
        fresh()
        started = time.perf_counter()
        procs = [subprocess.Popen(["bash", str(BENCH / "openssl_loop.sh"), str(out), *chunk]) for chunk in chunks]
        codes = [p.wait() for p in procs]
        seconds = time.perf_counter() - started
        if any(codes):
            raise RuntimeError(f"the openssl loop failed: {codes}")
        return seconds

    def batch(devices, jobs):
        seconds, result = timed([sys.executable, SCRIPT, "batch", devices, "--out", out, "--jobs", str(jobs)],
                                before=fresh, env=cli_environ())
        if f"{len(list(devices.iterdir()))} ok, 0 failed" not in result.stdout:
            raise RuntimeError(f"batch did not prepare every device:\n{result.stdout}{result.stderr}")
        return seconds

    rows, results = [], {}
    for size in sizes:
        n = batch_runs[size]
        for jobs in (1, 2):
            b = Stat([batch(sets[size], jobs) for _ in range(n)])
            o = Stat([openssl_loop(sets[size], jobs) for _ in range(n)])
            results[size, jobs] = (b, o)
            rows.append([f"{size:,}", str(jobs), b.s(), f"{b.median / size * 1e3:.2f}", o.s(),
                         f"{o.median / size * 1e3:.2f}", f"{o.median / b.median:.1f}×", str(n)])
    # Byte check on the largest set: the batch's files against the openssl loop's.
    batch(sets[largest], 2)
    batch_files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.der")}
    openssl_loop(sets[largest], 2)
    loop_files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.der")}
    identical = batch_files == loop_files and len(batch_files) == 3 * largest
    report.para("Batches: one folder per device (AWS's four files each), outputs to a fresh folder per run. "
                "`aws_iot.py batch DEVICES --out OUT --jobs N` is one Python process with N spawned workers; "
                "the openssl route is bench/openssl_loop.sh, a shell loop of three openssl processes per "
                "device, split into N loops running side by side for N jobs. Seconds, median (min–max).")
    report.table(["devices", "jobs", "batch s", "batch ms/device", "openssl loop s", "openssl ms/device",
                  "speed-up", "runs"], rows)
    big = results[largest, 2]
    speedup = big[1].median / big[0].median
    small = min(sizes)
    per_small = results[small, 2][0].median / small
    per_big = big[0].median / largest
    linear = per_big <= per_small * 1.2
    scale_1_2 = results[largest, 1][0].median / results[largest, 2][0].median
    report.para(f"The {largest:,} devices' files of both routes are byte-identical: {'yes' if identical else 'NO'}.")
    report.para("Where the batch's time goes: validating a device (parsing, the key/certificate match, "
                "the RSA key's arithmetic checks, dates, issuer) and encoding its DER files take about a "
                "millisecond; the rest is the file system: a temporary file and a rename for each output "
                "and the manifest (no fsync: the outputs are derived and compared byte for byte on the next "
                "run), which on a disk with slow metadata operations also limits what a second job gains. "
                "openssl pays a process start for each of its three commands per device.")
    report.para(f"Goal (≥ 10× faster than the openssl loop at {largest:,} devices, linear): "
                f"{goal(speedup >= 10 and linear)} — {speedup:.1f}× with 2 jobs "
                f"({results[largest, 1][1].median / results[largest, 1][0].median:.1f}× with 1 job); "
                f"per device {per_small * 1e3:.2f} ms at {small:,} and {per_big * 1e3:.2f} ms at {largest:,} "
                f"(start-up amortised: {'linear' if linear else 'not linear'}); 2 jobs against 1 at "
                f"{largest:,}: {scale_1_2:.2f}× faster.")
    start_method_rows(report, sets, out, fresh, batch_runs)
    return {"speedup": speedup, "linear": linear}


# What one batch costs with each way of starting its workers: the pool's start included.
START_METHOD_RUN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from espaws.fleet import batch
jobs = batch.make_jobs(batch.device_folders(sys.argv[2]), sys.argv[3], "esp8266", "pkcs8", {})
started = time.perf_counter()
results = batch.run(jobs, int(sys.argv[5]), start_method=sys.argv[4])
assert all(r.ok for r in results), [r.problems for r in results if not r.ok]
print(time.perf_counter() - started)
"""


def start_method_rows(report, sets, out, fresh, batch_runs, jobs=2):
    """batch's spawn (every system; macOS's default, Windows' only one) beside fork (Linux only)."""
    import multiprocessing
    methods = [m for m in ("spawn", "fork") if m in multiprocessing.get_all_start_methods()]

    def once(devices, method):
        fresh()
        done = run([sys.executable, "-c", START_METHOD_RUN, REPO / "extra_scripts", devices, out, method, jobs],
                   env=cli_environ())
        return float(done.stdout.strip().splitlines()[-1])

    rows = []
    for size, devices in sorted(sets.items()):
        figures = {m: Stat([once(devices, m) for _ in range(batch_runs[size])]) for m in methods}
        both = "fork" in figures
        rows.append([f"{size:,}", str(jobs), *(figures[m].s() for m in methods),
                     f"{figures['spawn'].median - figures['fork'].median:+.2f}" if both else "-",
                     f"{figures['spawn'].median / figures['fork'].median:.2f}" if both else "-"])
    report.para(f"Start methods: `batch` starts its workers with spawn on every system (Windows has no fork; "
                f"on macOS fork is unsafe and spawn the default). Each spawned worker starts a fresh interpreter, "
                f"imports the plugin and cryptography and reads Amazon's roots once; a forked one inherits them. "
                f"`batch.run` alone, pool start included, {jobs} jobs, seconds, median (min–max). The fork "
                f"workers also inherit the modules the parent imported to plan the jobs, so the difference is "
                f"what spawn pays once per batch.")
    report.table(["devices", "jobs", *(f"{m} s" for m in methods), "spawn - fork s", "spawn / fork"], rows)


# ---- 4. what the board pays ----------------------------------------------------------------

def plan_outputs(certs_dir, target):
    from espaws.identity import provision
    from espaws.identity.provision import Job
    job = Job(project_dir=certs_dir.parent, certs_dir=certs_dir, data_dir=certs_dir.parent / "data",
              state_dir=certs_dir.parent / ".state", target=target, settings={})
    return provision.plan(job).outputs


def littlefs_blocks(files):
    """Blocks the files take in an image with the ESP8266 core's geometry (beyond an empty one)."""
    import littlefs
    g = piohelpers.LITTLEFS_GEOMETRY["espressif8266"]

    def image():
        fs = littlefs.LittleFS(block_size=g.block_size, block_count=g.fs_size // g.block_size,
                               read_size=g.page_size, prog_size=g.page_size, name_max=g.name_max,
                               disk_version=g.disk_version)
        return fs

    empty = image().used_block_count
    fs = image()
    for name, data in files.items():
        with fs.open(name, "wb") as handle:
            handle.write(data)
    return fs.used_block_count - empty, g


def device_identity(folder, key_type, ca_cert, ca_key, with_ca_pem=None):
    from espaws.rig import devpki
    cert, key = devpki.issue_device_certificate(ca_cert, ca_key, key_type, common_name="bench-device",
                                                traditional=True)
    folder.mkdir(parents=True)
    (folder / "device-certificate.pem.crt").write_bytes(cert)
    (folder / "device-private.pem.key").write_bytes(key)
    if with_ca_pem:
        (folder / "ca.pem").write_bytes(with_ca_pem)
    return folder


def callgrind(cmd, out_file):
    run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *cmd])
    text = Path(out_file).read_text(errors="replace")
    total = int(re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M).group(1))
    annotated = run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out_file)]).stdout
    sign = 0
    for line in annotated.splitlines():
        match = re.match(r"\s*([\d,]+)\s.*?(br_rsa_\w*pkcs1_sign|br_ecdsa_\w*sign_asn1)\b", line)
        if match:
            sign = max(sign, int(match.group(1).replace(",", "")))
    return total, sign


def section_board(report, work, runs, callgrind_runs):
    from espaws.rig import broker, devpki, native
    report.heading("4. What the board pays")
    ca_cert, ca_key = devpki.create_ca("ec")
    rows, sizes = [], {}
    for key_type, label in (("rsa", "RSA-2048"), ("ec", "EC P-256")):
        folder = device_identity(work / f"size-{key_type}" / "certs", key_type, ca_cert, ca_key)
        for target, fmt in (("esp8266", "DER"), ("esp32", "PEM")):
            outputs = plan_outputs(folder, target)  # no CA in certs/: Amazon Root CA 1 and 3
            files = {o.name: o.data for o in outputs}
            blocks, g = littlefs_blocks(files)
            total = sum(len(d) for d in files.values())
            sizes[key_type, fmt] = total
            rows.append([label, f"{target} ({fmt})", ", ".join(f"{n} {len(d):,}" for n, d in files.items()),
                         f"{total:,}", f"{blocks} × {g.block_size:,} B of {g.fs_size // g.block_size}"])
    report.para("The files the plugin writes for a device with Amazon Root CA 1 and 3 as trust anchors (no CA "
                "in certs/); LittleFS blocks taken beyond an empty image, with the ESP8266 core's geometry "
                "(block 8,192 B, page 256 B, 1,024,000-byte filesystem of nodemcuv2's 4m1m layout, "
                "name_max 32, disk version 2.0), measured with littlefs-python.")
    report.table(["device key", "target", "files (bytes)", "total bytes", "LittleFS blocks"], rows)
    report.para(f"DER saves {1 - sizes['rsa', 'DER'] / sizes['rsa', 'PEM']:.0%} of the bytes against PEM "
                f"(RSA-2048 device: {sizes['rsa', 'DER']:,} vs {sizes['rsa', 'PEM']:,}); an EC P-256 device "
                f"needs {sizes['rsa', 'DER'] - sizes['ec', 'DER']:,} bytes less DER than an RSA-2048 one. "
                "Small files are inlined in LittleFS's metadata blocks, so the block counts differ less than "
                "the bytes.")

    # Handshake through the BearSSL client against mosquitto on 127.0.0.1.
    try:
        binary = native.build_client("bearssl", work / "native")
    except native.NativeBuildError as error:
        report.para(f"Handshake cost skipped: {error}")
        return {}
    if not broker.find_mosquitto():
        report.para("Handshake cost skipped: mosquitto is not installed (apt-get install mosquitto).")
        return {}
    data = {}
    for key_type in ("rsa", "ec"):
        folder = device_identity(work / f"tls-{key_type}" / "certs", key_type, ca_cert, ca_key, with_ca_pem=ca_cert)
        from espaws.identity import provision
        from espaws.identity.provision import Job
        job = Job(project_dir=folder.parent, certs_dir=folder, data_dir=folder.parent / "data",
                  state_dir=folder.parent / ".state", target="esp8266", settings={})
        provision.prepare(job)
        data[key_type] = job.data_dir
    measured = {}
    with broker.running_broker(work / "broker", ca_cert, ca_key, hostnames=("localhost",),
                               bind="127.0.0.1") as running:
        def command(key_type, timeout_s):
            d = data[key_type]
            return native.client_command(binary, host="localhost", port=running.port, ca_files=[d / "ca.der"],
                                         cert=d / "cert.der", key=d / "private.der", client_id="bench-device",
                                         topic="bench/echo", timeout_s=timeout_s)
        for key_type in ("rsa", "ec"):  # warm-up and a check that it connects at all
            outcome = native.parse_output(run(command(key_type, 10), check=False).stdout, "bearssl")
            if not outcome.ok:
                raise RuntimeError(f"{key_type} device did not connect: {outcome.layer}: {outcome.detail}")
        wall = {"rsa": [], "ec": []}
        for _ in range(runs):
            for key_type in ("rsa", "ec"):
                wall[key_type].append(timed(command(key_type, 10))[0])
        counts = {"rsa": [], "ec": []}
        signs = {"rsa": [], "ec": []}
        if shutil.which("valgrind") and shutil.which("callgrind_annotate"):
            for i in range(callgrind_runs):
                for key_type in ("rsa", "ec"):
                    total, sign = callgrind(command(key_type, 60), work / f"callgrind.{key_type}.{i}")
                    counts[key_type].append(total)
                    signs[key_type].append(sign)
        for key_type in ("rsa", "ec"):
            measured[key_type] = (Stat(wall[key_type]),
                                  Stat(counts[key_type]) if counts[key_type] else None,
                                  Stat(signs[key_type]) if signs[key_type] else None)
    report.para(f"One client run of native/bearssl_client (BearSSL {run(['dpkg-query', '-W', '-f=${Version}', 'libbearssl-dev'], check=False).stdout or '?'}, "
                "as the ESP8266 core loads data/: DER trust anchor, DER certificate, PKCS#8 key) against "
                "mosquitto on 127.0.0.1 with a development CA and an EC P-256 server certificate: TCP, a "
                "mutual-TLS 1.2 handshake, then MQTT CONNECT / SUBSCRIBE / PUBLISH of a few bytes. "
                "Instructions of the client process counted by `valgrind --tool=callgrind` "
                f"({callgrind_runs} runs; they hardly vary), wall time over {runs} runs as the second figure.")
    rows = []
    for key_type, label in (("rsa", "RSA-2048"), ("ec", "EC P-256")):
        wall_stat, count_stat, sign_stat = measured[key_type]
        rows.append([label, count_stat.count() if count_stat else "n/a",
                     sign_stat.count() if sign_stat else "n/a", wall_stat.ms(1)])
    report.table(["device key", "client instructions (whole run)", "of which the client's signature",
                  "wall ms"], rows)
    rsa, ec = measured["rsa"], measured["ec"]
    if rsa[1] and ec[1]:
        report.para(f"The EC P-256 key costs {rsa[1].median / ec[1].median:.1f}× fewer instructions per "
                    f"connection than RSA-2048 ({rsa[2].median / max(ec[2].median, 1):.1f}× fewer for the "
                    "signature alone) and its files are smaller, so development certificates default to EC "
                    "P-256 (`dev-certs --key-type ec`, devpki.new_private_key); RSA-2048 stays available with "
                    "`--key-type rsa` for AWS's one-click certificates. These are x86-64 counts of BearSSL's "
                    "default implementations; the ESP8266 runs other ones (32-bit words) and its own ratio is not "
                    "measured here.")
    return {}


# ---- 5. the fleet: per-device images --------------------------------------------------------

def section_fleet(report, work, pki, core, sizes, batch_runs, sample):
    """batch --image against the loop a user would write: `pio run -t buildfs` per device."""
    report.heading("5. The fleet: one filesystem image per device")
    load_before = os.getloadavg()[0]
    largest = max(sizes)
    all_devices = work / f"fleet-devices-{largest}"
    for index in range(largest):
        pki.write_device(all_devices / f"thing-{index:04d}", index)
    sets = {largest: all_devices}
    for size in sizes:
        if size != largest:
            sets[size] = work / f"fleet-devices-{size}"
            sets[size].mkdir()
            for index in range(size):
                (sets[size] / f"thing-{index:04d}").symlink_to(all_devices / f"thing-{index:04d}")
    out = work / "fleet-out"

    def batch_image(devices, jobs):
        """(wall s, CPU s of the batch process and its workers)."""
        import resource
        shutil.rmtree(out, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, result = timed([sys.executable, SCRIPT, "batch", devices, "--out", out, "--jobs", str(jobs),
                                 "--image"], env=cli_environ())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        count = len(list(devices.iterdir()))
        if f"{count} ok, 0 failed" not in result.stdout or f"images: {count} littlefs.bin" not in result.stdout:
            raise RuntimeError(f"batch --image did not image every device:\n{result.stdout}{result.stderr}")
        return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def disk_floor(count):
        """Seconds to write `count` image-sized files with plain Python: what the disk alone costs."""
        floor = work / "fleet-floor"
        shutil.rmtree(floor, ignore_errors=True)
        floor.mkdir()
        blank = b"\xff" * piohelpers.LITTLEFS_GEOMETRY["espressif8266"].fs_size
        started = time.perf_counter()
        for index in range(count):
            (floor / f"{index}.bin").write_bytes(blank)
        seconds = time.perf_counter() - started
        shutil.rmtree(floor, ignore_errors=True)
        return seconds

    # The loop a user would write: one project with the plugin, certs per device through
    # AWS_IOT_CERTS_DIR, `pio run -t buildfs`, copy the image out. Measured on a sample.
    project = piohelpers.write_project(
        work / "fleet-project",
        {"esp8266": piohelpers.env_options("espressif8266", extra_scripts=[piohelpers.plugin_extra_script()])},
        sources=SOURCES, files={".env": DOTENV})
    loop_out = work / "fleet-loop-out"

    def pio_buildfs(device):
        environ = {"AWS_IOT_CERTS_DIR": str(device), "PYTHONDONTWRITEBYTECODE": ""}
        started = time.perf_counter()
        result = piohelpers.run_pio(project, "run", "-t", "buildfs", core_dir=core, env=environ)
        target = loop_out / device.name / "littlefs.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(piohelpers.fs_image_path(project, "esp8266"), target)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"pio run -t buildfs failed for {device.name}:\n{piohelpers.output(result)}")
        return seconds

    devices = sorted(all_devices.iterdir())
    pio_buildfs(devices[-1])  # first run in the project: PlatformIO's own set-up, not counted
    step = max(1, largest // sample)
    sampled = devices[::step][:sample]
    loop = Stat([pio_buildfs(d) for d in sampled])

    rows, results, cpu, floors = [], {}, {}, {}
    for size in sizes:
        measured = [batch_image(sets[size], 2) for _ in range(batch_runs[size])]
        stat, cpu[size] = Stat([m[0] for m in measured]), Stat([m[1] for m in measured])
        results[size] = stat
        floors[size] = disk_floor(size)
        rows.append([f"{size:,}", stat.s(), f"{stat.median / size * 1e3:.2f}", f"{cpu[size].median / size * 1e3:.2f}",
                     f"{floors[size]:.2f}", str(batch_runs[size])])
    # The last run left the largest set's images in `out`: mount every one as the board does.
    geometry = piohelpers.LITTLEFS_GEOMETRY["espressif8266"]
    mounted = same_files = 0
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = piohelpers.read_littlefs_image(folder / "littlefs.bin", geometry)
        mounted += 1
        outputs = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "littlefs.bin"}
        same_files += files == outputs
    identical = sum((loop_out / d.name / "littlefs.bin").read_bytes() == (out / d.name / "littlefs.bin").read_bytes()
                    for d in sampled)
    loop_total = loop.median * largest
    big = results[largest]
    speedup = loop_total / big.median
    small = min(sizes)
    per_small, per_big = results[small].median / small, big.median / largest
    cpu_small, cpu_big = cpu[small].median / small, cpu[largest].median / largest
    linear = cpu_big <= cpu_small * 1.2  # CPU per device: what the program does, not the disk's cache

    report.para(f"Images for an ESP8266 (nodemcuv2: 1,024,000-byte LittleFS, block 8,192, page 256, name_max 32, "
                f"disk version 2.0), one per device folder of AWS's four files. `aws_iot.py batch DEVICES --out "
                f"OUT --image --jobs 2`: validate, write the device's files, pack them into OUT/<device>/"
                f"littlefs.bin and write OUT/manifest.json; a fresh OUT every run. Seconds, median (min–max).")
    report.table(["devices", "batch --image s", "wall ms/device", "CPU ms/device", "disk floor s", "runs"], rows)
    report.para("CPU ms/device is the user + system time of the batch process and its workers. The disk floor "
                "is plain Python writing the same number of 1,024,000-byte files and nothing else: every image "
                "is a full partition (as mklittlefs makes it), so 1,000 devices write 1 GB, and once that no "
                "longer fits the page cache's dirty limit the disk's speed sets the wall time.")
    report.para(f"The loop a user would write instead: one project with the plugin on the stand-in platform "
                f"(test/fixtures/platform-espressif8266, whose buildfs packs with littlefs-python in the same "
                f"geometry), and per device `AWS_IOT_CERTS_DIR=<device folder> pio run -t buildfs` then a copy of "
                f".pio/build/esp8266/littlefs.bin. Measured on a sample of {len(sampled)} devices spread over the "
                f"{largest:,} (after one uncounted first run), then EXTRAPOLATED: {loop.s()} s per device, so "
                f"about {loop_total:,.0f} s ({loop_total / 60:.1f} min) for {largest:,} devices. With the real "
                "platform the loop is slower still (mklittlefs is a separate process, the real builder loads more).")
    report.para(f"Every one of the {mounted:,} images mounts with the board's littlefs parameters "
                f"(littlefs-python, block 8,192, page 256, name_max 32, disk version 2.0) and holds exactly its "
                f"device's files: {'yes' if mounted == same_files == largest else f'NO ({same_files} of {mounted})'}. "
                f"The sampled devices' images from both routes are byte-identical: "
                f"{'yes' if identical == len(sampled) else f'NO ({identical} of {len(sampled)})'}.")
    report.para(f"Load average (1 min) when the section started and ended: {load_before:.1f} and "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: above the core count, other work shared "
                "the machine and every wall time above is inflated (both routes alike).")
    report.para(f"Goal (≥ 20× faster than the buildfs loop at {largest:,} devices, linear in the device count): "
                f"{goal(speedup >= 20 and linear)} — {speedup:.0f}× (batch {big.median:.1f} s against about "
                f"{loop_total:,.0f} s extrapolated); CPU per device {cpu_small * 1e3:.2f} ms at {small:,} and "
                f"{cpu_big * 1e3:.2f} ms at {largest:,} ({'linear' if linear else 'not linear'}); wall per device "
                f"{per_small * 1e3:.2f} ms and {per_big * 1e3:.2f} ms, against a disk floor of "
                f"{floors[small] / small * 1e3:.2f} and {floors[largest] / largest * 1e3:.2f} ms per image.")
    return {"speedup": speedup, "linear": linear}


# ---- main ----------------------------------------------------------------------------------

def splice_section(document, number, section, note):
    """`document` with its "## N." section replaced by `section` (or added before the footer)."""
    section = section.strip("\n") + f"\n\n{note}\n"
    heading = re.compile(rf"^## {number}\. .*$", re.M)
    following = re.compile(r"^(## \d+\. |---$)", re.M)
    match = heading.search(document)
    if match:
        end = following.search(document, match.end())
        stop = end.start() if end else len(document)
        return document[:match.start()] + section + "\n\n" + document[stop:]
    footer = document.rfind("\n---\n")
    stop = footer + 1 if footer >= 0 else len(document)
    return document[:stop] + "\n" + section + "\n\n" + document[stop:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and devices, for a quick look")
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to write")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--only", type=int, choices=range(1, 6), metavar="N",
                        help="run section N only and put it in place of that section in --out")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 7
    sizes = (10, 100) if args.quick else (100, 1000)
    batch_runs = {sizes[0]: 3, sizes[1]: 2}
    started = time.monotonic()
    report = Report()
    report.parts.append("# Benchmarks\n\nWritten by `bash bench/run` (bench/run.py); every figure is a median "
                        "over several runs with min and max. A benchmark, not a test: a slow machine shows slower "
                        "numbers and nothing fails.\n")
    report.heading("Machine")
    machine = machine_rows()
    report.table(["", ""], [list(r) for r in machine])
    work = Path(tempfile.mkdtemp(prefix="aws-iot-bench-"))
    sections = []
    try:
        core = piohelpers.make_core_dir(work / "core")
        pki = Pki()
        sections = [
            lambda: section_noop(report, work, pki, core, runs * 3),  # a ratio of a few percent: 3x the runs
            lambda: section_startup(report, work, pki, core, runs),
            lambda: section_devices(report, work, pki, runs, sizes, batch_runs),
            lambda: section_board(report, work, runs, 2 if args.quick else 3),
            lambda: section_fleet(report, work, pki, core, sizes, batch_runs, 5 if args.quick else 10),
        ]
        if args.only:
            report = Report()
            sections = [sections[args.only - 1]]
    except Exception:
        report.para(f"Set-up failed, no section ran:\n\n```\n{traceback.format_exc()}```")
    for section in sections:
        try:
            section()
        except Exception:
            report.para(f"This section could not run here:\n\n```\n{traceback.format_exc()}```")
    minutes = (time.monotonic() - started) / 60
    if args.only:
        text = splice_section(Path(args.out).read_text(), args.only, report.text(),
                              f"(section {args.only} rerun alone on {datetime.date.today().isoformat()}, "
                              f"{minutes:.1f} min{', --quick' if args.quick else ''}, on {machine[0][1]} with "
                              f"{machine[1][1]} cores, which may not be the machine of the table above)")
    else:
        report.parts.append(f"\n---\nRun on {datetime.date.today().isoformat()}, the whole benchmark took "
                            f"{minutes:.1f} min{' (--quick)' if args.quick else ''}.\n")
        text = report.text()
    Path(args.out).write_text(text)
    print(f"\nwritten to {args.out} ({minutes:.1f} min)")
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
