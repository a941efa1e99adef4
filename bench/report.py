"""The results of a run as a Markdown table and a PNG chart (matplotlib), beside the raw JSON."""

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


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [
        f"# Benchmark results: {meta['size']} ({meta['entries']:,} ledger entries)",
        "",
        (f"Run {meta['started']} on {meta['cpus']} cores ({meta['machine']}), commit `{meta['commit']}`. "
        f"Server: `comptoir serve --workers {meta['workers']}` on {meta['database']}, rate limits off. "
        f"Book: seed {meta['seed']}, {meta['book']['invoices']:,} invoices, {meta['book']['payments']:,} payments, "
        f"{meta['book']['transfers']:,} transfers, {meta['book']['customers']:,} customers, "
        f"{meta['book']['items']:,} items; loaded in {meta['book']['load_s']} s ({meta['book']['method']}). "
        f"Each HTTP scenario: {meta['warmup_s']} s warm-up, then {meta['duration_s']} s or "
        f"{meta['requests_max']:,} requests. Load average (1, 5, 15 min) before the run "
        f"{_load(meta, 'before')}, after {_load(meta, 'after')}: {_sharing(meta)}"),
        "",
        "## Comptoir",
        "",
        "| scenario | clients | requests | errors | throughput /s | p50 ms | p99 ms | target | ratio to target |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in results["scenarios"]:
        lines.append(f"| {row['title']} | {row['concurrency']} | {row['requests']:,} | {row['errors']} | "
                     f"{_fmt(row['throughput_per_s'])} | {_fmt(row['p50_ms'], 2)} | {_fmt(row['p99_ms'], 2)} | "
                     f"{row.get('target') or '—'} | {_ratio(row.get('target_ratio'))} |")
    imported = results.get("import")
    if imported:
        lines.append(f"| {imported['title']} | 1 process | {imported['lines']:,} | {imported['failed']} | "
                     f"{_fmt(imported['per_second'])} | — | — | {imported['target']} | "
                     f"{_ratio(imported.get('target_ratio'))} |")
    lines += ["", "Ratio to target: above 1 the target is met (throughput measured/target; latency target/measured)."]
    if imported and imported.get("projected_100k_s"):
        lines.append(f"The CLI import took {imported['seconds']} s for {imported['lines']:,} invoices "
                     f"({imported['created']:,} created); at that rate 100,000 take "
                     f"{imported['projected_100k_s']:,.0f} s (target 60 s).")
    cpu = [f"{row['name']} {int(row['client_cpu_share'] * 100)}%" for row in results["scenarios"]]
    lines += ["", f"CPU used by the load generator (of one core) during each scenario: {', '.join(cpu)}."]
    samples = [f"- {row['name']}: {sample}" for row in results["scenarios"] for sample in row["error_samples"]]
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
        lines += ["", "## Profiles (py-spy)", "", *[f"- {name}: `{path}`" for name, path in profiles.items()]]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results["scenarios"]
    names = [row["name"] for row in scenarios]
    figure, axes = plt.subplots(1, 3 if results.get("peers") else 2, figsize=(17, 5.5))
    throughput = [row["throughput_per_s"] for row in scenarios]
    axes[0].barh(names, throughput, color="#4c72b0")
    for index, row in enumerate(scenarios):
        target = row.get("target_value") if row.get("target_metric") == "throughput" else None
        if target:
            axes[0].plot([target, target], [index - 0.4, index + 0.4], color="#c44e52", linewidth=3)
    imported = results.get("import")
    if imported:
        axes[0].barh(["cli_import"], [imported["per_second"]], color="#55a868")
        axes[0].plot([100_000 / 60] * 2, [len(names) - 0.4, len(names) + 0.4], color="#c44e52", linewidth=3)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("requests per second (log); red: target")
    axes[0].set_title("Throughput")
    p50 = [row["p50_ms"] for row in scenarios]
    p99 = [row["p99_ms"] for row in scenarios]
    positions = range(len(names))
    axes[1].barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="#4c72b0")
    axes[1].barh([p + 0.2 for p in positions], p99, height=0.4, label="p99", color="#dd8452")
    for index, row in enumerate(scenarios):
        if row.get("target_metric") in ("p50", "p99"):
            axes[1].plot([row["target_value"]] * 2, [index - 0.4, index + 0.4], color="#c44e52", linewidth=3)
    axes[1].set_yticks(list(positions), names)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("milliseconds (log); red: target")
    axes[1].set_title("Latency")
    axes[1].legend()
    if results.get("peers"):
        rows = [row for row in results["peers"]["rows"] if row.get("ratio")]
        labels = [f"{row['work_short']} vs {row['peer']}" for row in rows]
        ratios = [row["ratio"] for row in rows]
        colors = ["#55a868" if ratio >= 10 else "#c44e52" for ratio in ratios]
        axes[2].barh(labels, ratios, color=colors)
        axes[2].axvline(10, color="#c44e52", linestyle="--", label="target 10×")
        axes[2].axvline(1, color="grey", linewidth=1)
        axes[2].set_xscale("log")
        axes[2].set_xlabel("Comptoir ÷ peer (log; > 1 Comptoir faster)")
        axes[2].set_title("Against peers")
        axes[2].legend()
    meta = results["meta"]
    figure.suptitle(f"Comptoir benchmark, {meta['size']} book ({meta['entries']:,} entries), "
                    f"{meta['workers']} workers, {meta['cpus']} cores")
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
