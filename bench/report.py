"""The results of a run as Markdown tables and a PNG chart (matplotlib), beside the raw JSON: each scenario's
figures on the floor and on Comptoir, Comptoir's as ratios of the floor's, and every target met or missed."""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _load(meta: dict, when: str) -> str:
    values = (meta.get("load_average") or {}).get(when)
    return " / ".join(f"{value:.2f}" for value in values) if values else "unknown"


def _sharing(meta: dict) -> str:
    """Whether other work shared the machine as the run began: the CPU measured busy over the
    seconds before it (the load average lags by minutes, and the load after the run is its own)."""
    busy = meta.get("cpu_busy_before")
    if busy is None:  # results of a run that did not measure it
        before = (meta.get("load_average") or {}).get("before")
        return (f"the 1-minute load average was {before[0]:.1f} as the run began (it lags by minutes: a run that "
                "had just ended counts in it)." if before else "whether other work shared the machine is unknown.")
    if busy < 0.15:
        return f"the machine was quiet when the run began ({busy:.0%} of its CPU busy; the load after it is the run's own)."
    return f"other work was running when the run began ({busy:.0%} of the machine's CPU busy): the figures are low."


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    verdict = "met" if value >= 1 else f"missed by {1 / value:,.1f}×" if value else "missed"
    return f"{value:,.2f}× ({verdict})"


def _verdicts(row: dict) -> str:
    return "; ".join(f"{t['text']}: **{t['verdict']}** ({t['detail']})" if t["verdict"] != "n/a"
                     else f"{t['text']}: n/a ({t['detail']})" for t in row.get("targets", [])) or "—"


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def markdown(results: dict) -> str:
    meta = results["meta"]
    floor = meta.get("floor")
    lines = [
        f"# Benchmark results: {meta['size']} ({meta['entries']:,} ledger entries)",
        "",
        (f"Run {meta['started']} on {meta['cpus']} cores ({meta['machine']}), commit `{meta['commit']}`. "
         f"Servers: `comptoir serve --workers {meta['workers']}` on {meta['database']}, rate limits off"
         + (f", and the floor (bench/floor: raw ASGI, asyncpg, orjson) under uvicorn with {meta['workers']} workers "
            "on the same database" if floor else "; no floor (it serves PostgreSQL only)") + ". "
         f"Book: seed {meta['seed']}, {meta['book']['invoices']:,} invoices, {meta['book']['payments']:,} payments, "
         f"{meta['book']['transfers']:,} transfers, {meta['book']['customers']:,} customers, "
         f"{meta['book']['items']:,} items; loaded in {meta['book']['load_s']} s ({meta['book']['method']}). "
         f"Load: {meta.get('load_generator', 'wrk')}; each scenario on each server (the floor first, then Comptoir, "
         f"the same requests): {meta['warmup_s']} s warm-up, then {meta['duration_s']} s. Load average (1, 5, 15 min) "
         f"before the run {_load(meta, 'before')}, after {_load(meta, 'after')}: {_sharing(meta)}"),
        "",
        "## Comptoir and the floor",
        "",
        ("| scenario | clients | floor /s | floor p50 / p99 ms | Comptoir /s | Comptoir p50 / p99 ms | "
         "errors floor / Comptoir | Comptoir ÷ floor, throughput | Comptoir ÷ floor, p99 |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["scenarios"]:
        fl = row.get("floor")
        lines.append(
            f"| {row['title']} | {row['concurrency']} | {_fmt(fl['throughput_per_s']) if fl else '—'} | "
            f"{(_fmt(fl['p50_ms'], 2) + ' / ' + _fmt(fl['p99_ms'], 2)) if fl else '—'} | {_fmt(row['throughput_per_s'])} | "
            f"{_fmt(row['p50_ms'], 2)} / {_fmt(row['p99_ms'], 2)} | {fl['errors'] if fl else '—'} / {row['errors']} | "
            f"{_times(row.get('throughput_ratio'))} | {_times(row.get('p99_ratio'))} |")
    imported = results.get("import")
    lines += ["", "## Targets (issue 15 §3, issue 8 §4)", "",
              "| scenario | targets |", "|---|---|"]
    for row in results["scenarios"]:
        lines.append(f"| {row['title']} | {_verdicts(row)} |")
    if imported:
        lines.append(f"| {imported['title']} | {imported['target']}: "
                     f"**{'met' if (imported.get('target_ratio') or 0) >= 1 else 'missed'}** "
                     f"({_ratio(imported.get('target_ratio'))}) |")
    lines += ["", ("Ratios: Comptoir's throughput over the floor's (at least 0.6 meets issue 15's target), Comptoir's "
                   "p99 over the floor's (at most 3 meets it). Against an absolute target: measured/target for a "
                   "throughput, target/measured for a latency, above 1 when met; a throughput target the floor "
                   "itself does not reach is n/a (the ratio to the floor is the target then).")]
    if imported:
        lines.append("")
        lines.append(f"CLI import: {imported['lines']:,} invoices in {imported['seconds']} s "
                     f"({_fmt(imported['per_second'])}/s, {imported['failed']} refused)"
                     + (f"; at that rate 100,000 take {imported['projected_100k_s']:,.0f} s (target 60 s)."
                        if imported.get("projected_100k_s") else "."))
    samples = [f"- {row['name']} (Comptoir): {sample}" for row in results["scenarios"] for sample in row["error_samples"]]
    samples += [f"- {row['name']} (floor): {sample}" for row in results["scenarios"] if row.get("floor")
                for sample in row["floor"]["error_samples"]]
    if imported and imported.get("failures"):
        samples += [f"- cli import: {failure}" for failure in imported["failures"][:5]]
    if samples:
        lines += ["", "Error samples:", "", *samples]
    peers = results.get("peers")
    if peers:
        lines += ["", "## Peers, same machine, same run", "",
                  "| work | Comptoir | peer | peer figure | Comptoir ÷ peer | target (≥ 10× the best peer) |",
                  "|---|---|---|---|---|---|"]
        for row in peers["rows"]:
            lines.append(f"| {row['work']} | {row['comptoir']} | {row['peer']} | {row['figure']} | "
                         f"{row['ratio_text']} | {row['verdict']} |")
        if peers.get("notes"):
            lines += ["", *[f"- {note}" for note in peers["notes"]]]
    profiles = results.get("profiles")
    if profiles:
        lines += ["", "## Profiles of Comptoir (py-spy)", "", *[f"- {name}: `{path}`" for name, path in profiles.items()]]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results["scenarios"]
    names = [row["name"] for row in scenarios]
    positions = list(range(len(names)))
    with_floor = any(row.get("floor") for row in scenarios)
    figure, axes = plt.subplots(1, 3 if with_floor else 2, figsize=(18, 6))

    def paired(axis, metric: str, label: str, title: str) -> None:
        if with_floor:
            axis.barh([p - 0.2 for p in positions], [row["floor"][metric] if row.get("floor") else 0 for row in scenarios],
                      height=0.4, label="floor", color="#8c8c8c")
        axis.barh([p + (0.2 if with_floor else 0) for p in positions], [row[metric] for row in scenarios],
                  height=0.4 if with_floor else 0.8, label="Comptoir", color="#4c72b0")
        axis.set_yticks(positions, names)
        axis.set_xscale("log")
        axis.set_xlabel(label)
        axis.set_title(title)
        axis.legend()

    paired(axes[0], "throughput_per_s", "requests per second (log)", "Throughput")
    paired(axes[1], "p99_ms", "milliseconds (log)", "p99 latency")
    if with_floor:
        throughput = [row.get("throughput_ratio") or 0 for row in scenarios]
        p99 = [1 / row["p99_ratio"] if row.get("p99_ratio") else 0 for row in scenarios]
        axes[2].barh([p - 0.2 for p in positions], throughput, height=0.4, label="throughput ÷ floor's", color="#4c72b0")
        axes[2].barh([p + 0.2 for p in positions], p99, height=0.4, label="floor's p99 ÷ p99", color="#dd8452")
        axes[2].axvline(0.6, color="#c44e52", linestyle="--", label="target 0.6 (throughput)")
        axes[2].axvline(1 / 3, color="#c44e52", linestyle=":", label="target 1/3 (p99)")
        axes[2].set_yticks(positions, names)
        axes[2].set_xlim(0, 1.1)
        axes[2].set_xlabel("Comptoir as a share of the floor (1: as good)")
        axes[2].set_title("Against the floor")
        axes[2].legend(fontsize=8)
    meta = results["meta"]
    figure.suptitle(f"Comptoir and the floor, {meta['size']} book ({meta['entries']:,} entries), "
                    f"{meta['workers']} workers each, {meta['cpus']} cores")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    size = results["meta"]["size"]
    paths = [directory / f"{size}.json", directory / f"{size}.md", directory / f"{size}.png"]
    paths[0].write_text(json.dumps(results, indent=2, default=str))
    paths[1].write_text(markdown(results))
    chart(results, paths[2])
    return paths
