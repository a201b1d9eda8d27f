"""Drive a Workload with wrk: a generated Lua script walks the paths, ``done()`` prints JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.workload import LoadResult, Workload

MARKER = "BENCHJSON "

LUA_TEMPLATE = """
paths = {%(paths)s}
etags = %(etags)s
static_headers = {%(headers)s}
client_param = %(client_param)s
method = %(method)s
body = %(body)s
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(7919 * (tid + 1))
  idx = math.random(#paths)
end

function request()
  idx = idx + 1
  if idx > #paths then idx = 1 end
  local path = paths[idx]
  if client_param then path = path .. math.random(1, 1000000000) end
  local headers = {}
  for k, v in pairs(static_headers) do headers[k] = v end
  if etags then headers["If-None-Match"] = etags[idx] end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "%(marker)s{\\"requests\\": %%d, \\"duration_us\\": %%d, \\"status\\": %%d, \\"connect\\": %%d, "
    .. "\\"read\\": %%d, \\"write\\": %%d, \\"timeout\\": %%d, \\"p50_us\\": %%.1f, \\"p99_us\\": %%.1f}\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_list(items: tuple[str, ...]) -> str:
    return ",".join(json.dumps(item) for item in items)


def script(workload: Workload) -> str:
    """The Lua script for ``workload`` (JSON string literals are valid Lua for ASCII text)."""
    etags = "{" + _lua_list(workload.etags) + "}" if workload.etags is not None else "nil"
    return LUA_TEMPLATE % {
        "paths": _lua_list(workload.paths),
        "etags": etags,
        "headers": ",".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in workload.headers),
        "client_param": "true" if workload.client_param else "false",
        "method": json.dumps(workload.method),
        "body": json.dumps(workload.body) if workload.body is not None else "nil",
        "marker": MARKER,
    }


def run(base_url: str, workload: Workload, duration: float, connections: int, threads: int = 1) -> LoadResult:
    """Run wrk for ``duration`` seconds; socket errors and non-2xx/3xx answers count as errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script(workload))
        lua = Path(handle.name)
    try:
        argv = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "5s",
            "-s",
            str(lua),
            base_url,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    finally:
        lua.unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(
            f"wrk gave no summary (rc {proc.returncode}): {proc.stderr.strip() or proc.stdout[-300:]}"
        )
    data = json.loads(line[len(MARKER) :])
    errors = sum(int(data[k]) for k in ("status", "connect", "read", "write", "timeout"))
    return LoadResult(
        requests=int(data["requests"]),
        seconds=int(data["duration_us"]) / 1e6,
        errors=errors,
        p50_ms=float(data["p50_us"]) / 1000,
        p99_ms=float(data["p99_us"]) / 1000,
        generator="wrk",
        connections=connections,
    )
