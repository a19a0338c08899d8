#!/usr/bin/python3
"""Draw the scaling curves of one experiment in a tasnap_scaling HDF5 file.

Writes four PNG files into --out: wall time vs workers, speedup vs workers with
the ideal line, parallel efficiency vs workers, and the per-rank phase breakdown
(connect/read/compute/write) of the median run at each worker count.

Uses Debian's python3-h5py and python3-matplotlib, hence /usr/bin/python3.
"""

import argparse
import math
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")  # no display on build machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PHASES = ("connect_seconds", "read_seconds", "compute_seconds", "write_seconds")


def text(value):
    """Return an HDF5 string attribute or dataset element as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def pick_experiment(h5, name):
    """Return the experiment group `name`, or the latest one when name is None."""
    if "experiments" not in h5 or len(h5["experiments"]) == 0:
        sys.exit("error: the file has no /experiments group. Write one with tasnap_scaling first.")
    names = sorted(h5["experiments"].keys())
    if name is None:
        # Names start with a UTC timestamp, so the last in sort order is the latest.
        return names[-1], h5["experiments"][names[-1]]
    if name not in h5["experiments"]:
        sys.exit(f"error: experiment '{name}' not found. Experiments in the file: {', '.join(names)}")
    return name, h5["experiments"][name]


def successful_runs(group):
    """Return the row indices of the runs whose status is succeeded."""
    status = [text(s) for s in group["status"][()]]
    return [i for i, s in enumerate(status) if s == "succeeded"]


def per_worker(group):
    """Return {workers: [row indices]} over successful runs, in worker order."""
    workers = group["workers"][()]
    rows = {}
    for i in successful_runs(group):
        rows.setdefault(int(workers[i]), []).append(i)
    return dict(sorted(rows.items()))


def machine_caption(name, group):
    attrs = group.attrs
    parts = [name, f"host {text(attrs.get('host', '?'))}", f"{int(attrs.get('cores', 0))} cores",
             f"{text(attrs.get('database_kind', '?'))}", f"{int(attrs.get('tickers', 0))} tickers",
             f"commit {text(attrs.get('git_commit', '?'))}"]
    return ", ".join(parts)


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)


def plot_wall(name, group, rows, out):
    wall = group["wall_seconds"][()]
    workers = list(rows)
    medians = [float(np.median(wall[rows[m]])) for m in workers]
    lows = [medians[k] - float(np.min(wall[rows[m]])) for k, m in enumerate(workers)]
    highs = [float(np.max(wall[rows[m]])) - medians[k] for k, m in enumerate(workers)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(workers, medians, yerr=[lows, highs], marker="o", capsize=4, label="median (min to max)")
    if 1 in rows:
        ideal = [medians[0] / m for m in workers]
        ax.plot(workers, ideal, linestyle="--", color="grey", label="ideal: T(1)/M")
    ax.set_xlabel("workers M (MPI ranks)")
    ax.set_ylabel("wall time (s)")
    ax.set_xticks(workers)
    ax.set_ylim(bottom=0)
    ax.set_title(machine_caption(name, group), fontsize=7)
    ax.legend()
    save(fig, os.path.join(out, "scaling_wall.png"))


def speedups(group, rows):
    wall = group["wall_seconds"][()]
    medians = {m: float(np.median(wall[rows[m]])) for m in rows}
    if 1 not in medians:
        return None
    return {m: medians[1] / medians[m] for m in medians}


def paired_speedups(group, rows):
    """Return {M: median over repeats r of T(1, r) / T(M, r)}, or None without M = 1 runs."""
    if 1 not in rows:
        return None
    wall = group["wall_seconds"][()]
    repeat = group["repeat"][()]
    serial = {int(repeat[i]): float(wall[i]) for i in rows[1]}
    paired = {}
    for m, indices in rows.items():
        ratios = [serial[int(repeat[i])] / float(wall[i]) for i in indices if int(repeat[i]) in serial]
        paired[m] = float(np.median(ratios)) if ratios else math.nan
    return paired


def plot_speedup(name, group, rows, out):
    speedup = speedups(group, rows)
    fig, ax = plt.subplots(figsize=(6, 4))
    workers = list(rows)
    if speedup is None:
        ax.text(0.5, 0.5, "no M = 1 runs: speedup undefined", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.plot(workers, [speedup[m] for m in workers], marker="o", label="median T(1) / median T(M)")
        paired = paired_speedups(group, rows)
        if paired:
            ax.plot(workers, [paired[m] for m in workers], marker="s", linestyle="-.",
                    label="median of T(1, r) / T(M, r) per repeat r")
        ax.plot(workers, workers, linestyle="--", color="grey", label="ideal: S = M")
        ax.set_ylim(bottom=0)
    cores = int(group.attrs.get("cores", 0))
    if cores and any(m > cores for m in workers):
        ax.axvline(cores, color="red", linestyle=":", label=f"{cores} physical cores")
    ax.set_xlabel("workers M (MPI ranks)")
    ax.set_ylabel("speedup S = T(1)/T(M)")
    ax.set_xticks(workers)
    ax.set_title(machine_caption(name, group), fontsize=7)
    ax.legend()
    save(fig, os.path.join(out, "scaling_speedup.png"))


def plot_efficiency(name, group, rows, out):
    speedup = speedups(group, rows)
    fig, ax = plt.subplots(figsize=(6, 4))
    workers = list(rows)
    if speedup is None:
        ax.text(0.5, 0.5, "no M = 1 runs: efficiency undefined", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.plot(workers, [speedup[m] / m for m in workers], marker="o", label="measured")
        ax.axhline(1.0, linestyle="--", color="grey", label="ideal")
        ax.set_ylim(0, 1.1)
    ax.set_xlabel("workers M (MPI ranks)")
    ax.set_ylabel("parallel efficiency S/M")
    ax.set_xticks(workers)
    ax.set_title(machine_caption(name, group), fontsize=7)
    ax.legend()
    save(fig, os.path.join(out, "scaling_efficiency.png"))


def median_run(group, indices):
    """Return the row among `indices` whose wall time is the median (lower middle for even counts)."""
    wall = group["wall_seconds"][()]
    ordered = sorted(indices, key=lambda i: wall[i])
    return ordered[(len(ordered) - 1) // 2]


def plot_phases(name, group, rows, out):
    """Draw one bar per rank, grouped by M and stacked by phase, for the median run of each M."""
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * sum(rows)), 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    positions, labels = [], []
    x = 0.0
    for m, indices in rows.items():
        run = median_run(group, indices)
        bottoms = np.zeros(m)
        xs = x + np.arange(m)
        for k, phase in enumerate(PHASES):
            seconds = np.nan_to_num(group[phase][run, :m])
            ax.bar(xs, seconds, bottom=bottoms, color=colors[k % len(colors)],
                   label=phase.replace("_seconds", "") if m == next(iter(rows)) else None)
            bottoms += seconds
        positions.extend(xs)
        labels.extend(f"M={m}\nr{r}" for r in range(m))
        x += m + 1
    ax.set_xticks(positions)
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("seconds per rank (median run)")
    ax.set_title(machine_caption(name, group), fontsize=7)
    ax.legend()
    save(fig, os.path.join(out, "scaling_phases.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="results/scaling.h5", help="HDF5 file (default: %(default)s)")
    parser.add_argument("--experiment", help="experiment group name under /experiments (default: the latest)")
    parser.add_argument("--out", default="results", help="folder for the PNG files (default: %(default)s)")
    args = parser.parse_args()

    if not os.path.exists(args.file):
        sys.exit(f"error: '{args.file}' not found. Give the HDF5 file written by tasnap_scaling --out.")
    os.makedirs(args.out, exist_ok=True)
    with h5py.File(args.file, "r") as h5:
        name, group = pick_experiment(h5, args.experiment)
        rows = per_worker(group)
        if not rows:
            sys.exit(f"error: experiment '{name}' has no successful run to plot.")
        plot_wall(name, group, rows, args.out)
        plot_speedup(name, group, rows, args.out)
        plot_efficiency(name, group, rows, args.out)
        plot_phases(name, group, rows, args.out)

        summary = group.get("summary")
        if summary is not None:
            print(f"{'workers':>7} {'median_wall_s':>13} {'speedup':>8} {'efficiency':>10} {'karp_flatt':>10}")
            for k in range(len(summary["workers"])):
                print(f"{int(summary['workers'][k]):>7} {float(summary['median_wall'][k]):>13.3f} "
                      f"{float(summary['speedup'][k]):>8.3f} {float(summary['efficiency'][k]):>10.3f} "
                      f"{float(summary['karp_flatt'][k]):>10.3f}")


if __name__ == "__main__":
    main()
