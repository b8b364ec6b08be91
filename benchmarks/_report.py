"""Result files: headers that say what ran, where and how long, tables
as CSV and Markdown, and the timing benchmarks' reports."""

import csv
import importlib.metadata
import os
import platform

from benchmarks._cli import installed_backends
from benchmarks._timing import Stopwatch


def probe_or_measure(parser, argv, measure, probe, probe_option="probe"):
    """What a timing benchmark's ``main`` does first: in a fresh process it
    started (``--probe``, or ``probe_option``), run ``probe(args)`` and
    return None; else :func:`measure_backends` and return ``(args, out,
    records, run_facts)``."""
    args = parser.parse_args(argv)
    if getattr(args, probe_option):
        probe(args)
        return None
    return (args, *measure_backends(parser, args, measure))


def measure_backends(parser, args, measure):
    """Run ``measure(backend, args)`` (a list of records, each backend in
    processes of its own) on ``--backend`` or on every installed backend.

    Returns the output directory, the records, and the lines for the
    result's header that say where and how long it ran.
    """
    backends = [args.backend] if args.backend else installed_backends()
    out = parser.output_dir(args, backends)
    records = []
    with Stopwatch() as watch:
        for backend in backends:
            print(f"timing the {backend} backend ...", flush=True)
            records += measure(backend, args)
    recorded = next(r["environment"] for r in records if "environment" in r)
    versions = ", ".join(f"{k} {v}" for k, v in recorded.items() if k != "backend")
    run_facts = [
        f"Environment: {versions}",
        f"Wall time of this benchmark: {watch.seconds:.0f} s.",
    ]
    return out, records, run_facts


def write_timing_report(rows, out, name, title, facts_lines, columns):
    """Write a timing benchmark's table under its title, facts and the
    explanation of its columns; print it and where it went."""
    header = [title, "", *facts(*facts_lines), "", columns]
    csv_path, md_path = write_table(rows, out, name, header)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path}")


def environment(backend):
    """Versions and machine facts to record beside every result."""
    packages = ("sknoise", "scikit-learn", "keras", "scikeras", "tensorflow", "jax")
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "backend": backend,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        **versions,
    }


def header(title, backend, settings, seconds):
    """Lines that head a result file: what ran, where, how long.

    The facts are a Markdown list, one item each: consecutive plain lines
    would render as a single paragraph.
    """
    return [
        f"# {title}",
        "",
        *facts(
            "Settings: "
            + ", ".join(f"{key}={value}" for key, value in settings.items()),
            f"Backend: {backend}. Wall time: {seconds:.0f} s.",
            environment_line(backend),
        ),
    ]


def facts(*lines):
    """``lines`` as the items of a Markdown list."""
    return [f"- {line}" for line in lines]


def environment_line(backend):
    """The versions and machine of :func:`environment`, as one line."""
    env = environment(backend)
    return "Environment: " + ", ".join(
        f"{k} {v}" for k, v in env.items() if k != "backend"
    )


def write_table(rows, out_dir, name, header_lines):
    """Write ``rows`` (a list of dicts) as ``name.csv`` and ``name.md``.

    The Markdown file starts with ``header_lines`` (settings, versions) so
    that a result is never separated from how it was produced.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # A small negative number rounded to -0.0 is written as 0.
    rows = [
        {k: v + 0.0 if isinstance(v, float) else v for k, v in row.items()}
        for row in rows
    ]
    columns = list(rows[0])
    with open(out_dir / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [*header_lines, ""]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return out_dir / f"{name}.csv", out_dir / f"{name}.md"


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
