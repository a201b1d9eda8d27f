"""``python -m bench``: generate catalogues, measure import and HTTP load, report against a baseline."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console

from bench import backends, catalogue, commands, gateway, load, machine, plot, report, runner
from bench.results import Results

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "registry-reference" / "server.schema.json"
DEFAULT_SIZES = (1_000, 10_000, 100_000)


def _sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        scale = 1000 if part.endswith("k") else 1
        out.append(int(float(part.rstrip("k")) * scale))
    if any(s < 10 for s in out):
        raise argparse.ArgumentTypeError("sizes must be at least 10 releases")
    return out


def _backends(text: str) -> list[str]:
    out = [b.strip() for b in text.split(",") if b.strip()]
    unknown = [b for b in out if b not in backends.BACKENDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {unknown}; choose from {backends.BACKENDS}")
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 releases only, short runs (< 2 minutes)")
    parser.add_argument("--sizes", type=_sizes, help="comma-separated release counts, e.g. 1k,10k,100k")
    parser.add_argument(
        "--backends", type=_backends, default=list(backends.BACKENDS), help="sqlite,postgresql"
    )
    parser.add_argument("--duration", type=float, help="seconds per read scenario (default 10, quick 3)")
    parser.add_argument("--publish-duration", type=float, help="seconds of publishing (default 5, quick 2)")
    parser.add_argument(
        "--load-generator",
        choices=("wrk", "python"),
        default="wrk",
        help="wrk (required by default) or the bundled python generator (development only)",
    )
    parser.add_argument(
        "--cache-bytes", type=int, help="MCPREG_CACHE_BYTES for mcpreg serve (default: the service's own)"
    )
    parser.add_argument("--keep-databases", action="store_true", help="keep the databases for inspection")
    parser.add_argument(
        "--sync", action="store_true", help="only the subregistry sync scenario (bench/sync.py)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="output directory")
    parser.add_argument(
        "--gateway",
        action="store_true",
        help="only the gateway scenario: one tools/call direct and through the gateway (bench/gateway.py)",
    )
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace, generator: str) -> runner.Settings:
    duration = args.duration or (3.0 if args.quick else 10.0)
    return runner.Settings(
        duration=duration,
        publish_duration=args.publish_duration or (2.0 if args.quick else 5.0),
        warmup=0.0 if args.quick else 1.0,
        generator=generator,
        walk_time_limit=20.0 if args.quick else 120.0,
        keep_databases=args.keep_databases,
        out_dir=args.out,
        server_env={} if args.cache_bytes is None else {"MCPREG_CACHE_BYTES": str(args.cache_bytes)},
    )


def _gateway_argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "--backends",
        ",".join(args.backends),
        "--load-generator",
        args.load_generator,
        "--out",
        str(args.out),
    ]
    if args.duration or args.quick:
        argv += ["--duration", str(args.duration or 3.0)]
    return argv + (["--keep-databases"] if args.keep_databases else [])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sync:  # sync throughput at 10,000 upstream releases (or the first --sizes)
        from bench import sync

        size = str((args.sizes or [10_000])[0])
        return sync.main(["--size", size, "--backends", ",".join(args.backends), "--out", str(args.out)])
    if args.gateway:
        return gateway.main(_gateway_argv(args))
    console = Console(width=None if sys.stdout.isatty() else 150)
    started = time.monotonic()
    sizes = args.sizes or ([1_000] if args.quick else list(DEFAULT_SIZES))
    generator = load.generator_name(args.load_generator)
    settings = _settings(args, generator)
    args.out.mkdir(parents=True, exist_ok=True)
    box = machine.describe()
    console.print(f"[bold]machine[/]: {box.one_line()}")
    results = Results(
        machine=box,
        options={
            "sizes": sizes,
            "backends": args.backends,
            "duration_s": settings.duration,
            "publish_duration_s": settings.publish_duration,
            "warmup_s": settings.warmup,
            "load_generator": generator,
            "connections": load.CONNECTIONS,
            "quick": args.quick,
            "cache_bytes": args.cache_bytes,
        },
    )
    if note := machine.busy_note(box.nproc, "at start"):
        results.notes.append(note)
    help_text, why = commands.serve_help(ROOT)
    if help_text is None:
        results.notes.append(
            f"`{commands.mcpreg_executable()} serve --help` failed ({why}): import and load not run"
        )
    else:
        settings.serve_flags, flag_notes = commands.serve_flags(help_text)
        results.notes.extend(flag_notes)
    chosen = list(args.backends)
    if "postgresql" in chosen and (reason := backends.postgres_unreachable_reason()):
        console.print(f"[yellow]PostgreSQL skipped[/]: {reason}")
        results.notes.append(f"PostgreSQL skipped: {reason}")
        chosen.remove("postgresql")
    secret_keys = commands.new_secret_keys()
    for size in sizes:
        cat, docs = catalogue.write(size, args.out)
        results.validation[size] = catalogue.validate(docs, SCHEMA)
        console.print(
            f"[bold]catalogue[/] {cat.path} ({cat.releases:,} releases, {len(cat.names):,} servers)"
        )
        if help_text is None:
            continue
        for backend in chosen:
            try:
                runner.run_one(console, results, settings, secret_keys, backend, cat, docs)
            except Exception as exc:
                results.notes.append(f"{backend} {size}: aborted: {type(exc).__name__}: {exc}")
                console.print(f"[red]{backend} {size} aborted[/]: {traceback.format_exc(limit=3)}")
        del docs
    if note := machine.busy_note(box.nproc, "at the end"):
        results.notes.append(note)
    report.show(console, results)
    report.write_json(results, args.out / "results.json")
    drawn = plot.throughput(results, args.out / "throughput.png")
    console.print(f"wrote {args.out / 'results.json'}" + (f" and {drawn}" if drawn else ""))
    console.print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
