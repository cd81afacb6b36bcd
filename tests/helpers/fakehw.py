#!/usr/bin/env python3
"""Fake hardware for wattprint's tests: powercap trees laid out (and
symlinked) the way Linux's sysfs is, /proc files, and a command that advances
the counters while wattprint measures it.

  fakehw.py advance ROOT --zone intel-rapl:0=100 [--zone ...] --steps N --period S
      adds exactly the given joules to each zone's energy_uj over N steps,
      wrapping at max_energy_range_uj as the hardware does.
  fakehw.py procstat PROCFS --busy B --idle I
      adds B busy and I idle jiffies to the cpu lines of PROCFS/stat.
"""
import argparse
import os
import sys
import time

POWERCAP = "devices/virtual/powercap"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_zone(root, zone_id, name, energy_uj=0, range_uj=262143328850, max_power_uw=None):
    """Creates one zone (top-level "intel-rapl:0" or sub "intel-rapl:0:1", or
    "intel-rapl-mmio:0") and its class/powercap symlink. Returns its dir."""
    control = zone_id.split(":")[0]
    parts = zone_id.split(":")
    rel = [POWERCAP, control]
    for i in range(2, len(parts) + 1):
        rel.append(":".join(parts[:i]))
    zdir = os.path.join(root, *rel)
    os.makedirs(zdir, exist_ok=True)
    _write(os.path.join(zdir, "name"), name + "\n")
    _write(os.path.join(zdir, "energy_uj"), "%d\n" % energy_uj)
    _write(os.path.join(zdir, "max_energy_range_uj"), "%d\n" % range_uj)
    _write(os.path.join(zdir, "enabled"), "1\n")
    if max_power_uw is not None:
        _write(os.path.join(zdir, "constraint_0_max_power_uw"), "%d\n" % max_power_uw)
    cls = os.path.join(root, "class/powercap")
    os.makedirs(cls, exist_ok=True)
    ctl_link = os.path.join(cls, control)
    if not os.path.islink(ctl_link):
        os.symlink(os.path.join("../..", POWERCAP, control), ctl_link)
    link = os.path.join(cls, zone_id)
    if not os.path.islink(link):
        os.symlink(os.path.join("../..", *rel), link)
    return zdir


def zone_file(root, zone_id, attr="energy_uj"):
    return os.path.join(root, "class/powercap", zone_id, attr)


def read_uj(root, zone_id):
    with open(zone_file(root, zone_id)) as f:
        return int(f.read())


def _rewrite_in_place(path, text):
    # In place, not by rename: wattprint keeps the file open, as it does for sysfs.
    # Never shorter than before (spaces pad the last line), so a reader never
    # sees the new text followed by the old one's tail, as it could between a
    # write and a truncate; real sysfs files change atomically.
    with open(path, "r+") as f:
        old = len(f.read())
        if text.endswith("\n") and len(text) < old:
            text = text[:-1] + " " * (old - len(text)) + "\n"
        f.seek(0)
        f.write(text)
        f.truncate()


def advance(root, zones, steps, period):
    """zones: list of (zone_id, joules). Adds exactly joules*1e6 uJ to each."""
    plan = []
    for zone_id, joules in zones:
        with open(zone_file(root, zone_id, "max_energy_range_uj")) as f:
            rng = int(f.read())
        total = int(round(joules * 1e6))
        plan.append((zone_file(root, zone_id), rng, total))
    for step in range(steps):
        for path, rng, total in plan:
            add = total // steps + (total % steps if step == steps - 1 else 0)
            with open(path) as f:
                cur = int(f.read())
            _rewrite_in_place(path, "%d\n" % ((cur + add) % rng))
        time.sleep(period)


def make_proc(procfs, model="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", hypervisor=False,
              threads=4, mem_kb=16000000, sockets=1, cores=None):
    os.makedirs(procfs, exist_ok=True)
    lines = ["cpu  1000 0 1000 8000 0 0 0 0 0 0"]
    lines += ["cpu%d 250 0 250 2000 0 0 0 0 0 0" % i for i in range(threads)]
    _write(os.path.join(procfs, "stat"), "\n".join(lines) + "\nintr 0\nctxt 0\n")
    flags = "fpu vme de pse tsc msr" + (" hypervisor" if hypervisor else "") + " avx2"
    info = []
    for i in range(threads):
        info.append("processor\t: %d\nmodel name\t: %s\nphysical id\t: %d\ncpu cores\t: %d\n"
                    "flags\t\t: %s\n"
                    % (i, model, i % sockets, cores or max(1, threads // sockets // 2), flags))
    _write(os.path.join(procfs, "cpuinfo"), "\n".join(info))
    _write(os.path.join(procfs, "meminfo"),
           "MemTotal:       %d kB\nMemFree:         1000 kB\nMemAvailable:    %d kB\n"
           % (mem_kb, mem_kb // 2))


def make_dmi(sysfs, dimms):
    """SMBIOS type 17 entries under firmware/dmi/entries, as the kernel
    exposes them: dimms is a list of (size in MB or 0 for an empty slot,
    SMBIOS memory type code: 0x1A DDR4, 0x22 DDR5)."""
    import struct
    for i, (mb, code) in enumerate(dimms):
        raw = bytearray(0x28)
        raw[0], raw[1] = 17, 0x28
        struct.pack_into("<H", raw, 2, 0x1100 + i)
        if mb >= 0x7FFF:
            struct.pack_into("<H", raw, 0x0C, 0x7FFF)
            struct.pack_into("<I", raw, 0x1C, mb)
        else:
            struct.pack_into("<H", raw, 0x0C, mb)
        raw[0x12] = code
        d = os.path.join(sysfs, "firmware", "dmi", "entries", "17-%d" % i)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "raw"), "wb") as f:
            f.write(bytes(raw) + b"\0\0")


def add_procstat(procfs, busy, idle):
    path = os.path.join(procfs, "stat")
    with open(path) as f:
        lines = f.read().split("\n")
    out = []
    for line in lines:
        if line.startswith("cpu "):
            v = line.split()
            v[1] = str(int(v[1]) + busy)
            v[4] = str(int(v[4]) + idle)
            line = "cpu  " + " ".join(v[1:])
        out.append(line)
    _rewrite_in_place(path, "\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("advance")
    a.add_argument("root")
    a.add_argument("--zone", action="append", default=[])
    a.add_argument("--steps", type=int, default=10)
    a.add_argument("--period", type=float, default=0.01)
    a.add_argument("--hold", type=float, default=0.0, help="seconds to wait after advancing")
    a.add_argument("--break-zone", help="after holding, make this zone unreadable")
    a.add_argument("--then-sleep", type=float, default=0.0)
    a.add_argument("--exit", type=int, default=0)
    p = sub.add_parser("procstat")
    p.add_argument("procfs")
    p.add_argument("--busy", type=int, required=True)
    p.add_argument("--idle", type=int, required=True)
    p.add_argument("--then-sleep", type=float, default=0.0)
    args = ap.parse_args()
    if args.cmd == "advance":
        zones = []
        for z in args.zone:
            zid, j = z.split("=")
            zones.append((zid, float(j)))
        advance(args.root, zones, args.steps, args.period)
        time.sleep(args.hold)
        if args.break_zone:
            _rewrite_in_place(zone_file(args.root, args.break_zone), "")
        time.sleep(args.then_sleep)
        sys.exit(args.exit)
    else:
        add_procstat(args.procfs, args.busy, args.idle)
        time.sleep(args.then_sleep)



# Fake vendor libraries: state files read by tests/fakes/fake_{nvml,rocm}.c.

def _atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def make_gpus(state_dir, gpus):
    """gpus: list of dicts; keys written as files in gpuN/ (name, uuid,
    limit_mw, power_mw, energy_mj for NVML; name, unique_id, power_cap_uw,
    energy_count, resolution_uj for ROCm). A key set to None is left out."""
    os.makedirs(state_dir, exist_ok=True)
    _atomic_write(os.path.join(state_dir, "count"), "%d\n" % len(gpus))
    for i, g in enumerate(gpus):
        d = os.path.join(state_dir, "gpu%d" % i)
        os.makedirs(d, exist_ok=True)
        for k, v in g.items():
            path = os.path.join(d, k)
            if v is not None:
                _atomic_write(path, "%s\n" % v)
            elif os.path.exists(path):
                os.unlink(path)


def gpu_add(state_dir, gpu, key, amount):
    path = os.path.join(state_dir, "gpu%d" % gpu, key)
    with open(path) as f:
        cur = int(f.read())
    _atomic_write(path, "%d\n" % (cur + amount))


def gpu_set(state_dir, gpu, key, value):
    _atomic_write(os.path.join(state_dir, "gpu%d" % gpu, key), "%s\n" % value)


def gpu_work(argv):
    """fakehw.py gpuwork STATE_DIR [--units N] [--unit-s S]: a GPU workload whose
    speed follows the fake GPU 0's power limit: a unit takes S x sqrt(340 /
    (L - 60)) seconds at L watts, drawing L watts (the energy counter advances by
    that), and each unit is reported on $WATTPRINT_PROGRESS. Energy per unit is
    then lowest near 120 W, time per unit at the highest limit."""
    ap = argparse.ArgumentParser(prog="fakehw.py gpuwork")
    ap.add_argument("state")
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--unit-s", type=float, default=0.02)
    a = ap.parse_args(argv)
    progress = os.environ["WATTPRINT_PROGRESS"]
    for k in range(1, a.units + 1):
        with open(os.path.join(a.state, "gpu0", "limit_mw")) as f:
            watts = int(f.read()) / 1000.0
        t = a.unit_s * (340.0 / max(watts - 60.0, 1.0)) ** 0.5
        # the counter advances while the unit runs, as a GPU's does; in two
        # sleeps, not many: a loaded machine adds its delay to each sleep, and
        # few long ones keep the times' ratios what the model says
        for _ in range(2):
            time.sleep(t / 2)
            gpu_add(a.state, 0, "energy_mj", int(round(watts * t * 500)))
        with open(progress, "a") as f:
            f.write("done=%d\n" % k)


def gpu_main(argv):
    """fakehw.py gpu STATE_DIR [--add N:KEY=AMOUNT]... [--set N:KEY=VALUE]...
    [--steps S] [--period P] [--hold H] [--lose N] [--then-sleep S]: applies
    the --set values, then each --add spread over S steps, waits H seconds,
    marks GPU N lost, and waits S seconds more."""
    ap = argparse.ArgumentParser(prog="fakehw.py gpu")
    ap.add_argument("state")
    ap.add_argument("--add", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--period", type=float, default=0.01)
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to wait before --lose")
    ap.add_argument("--lose", type=int)
    ap.add_argument("--then-sleep", type=float, default=0.0)
    a = ap.parse_args(argv)
    for item in a.set:
        target, value = item.split("=")
        n, key = target.split(":")
        gpu_set(a.state, int(n), key, value)
    adds = []
    for item in a.add:
        target, amount = item.split("=")
        n, key = target.split(":")
        adds.append((int(n), key, int(amount)))
    for step in range(a.steps):
        for n, key, total in adds:
            part = total // a.steps + (total % a.steps if step == a.steps - 1 else 0)
            gpu_add(a.state, n, key, part)
        time.sleep(a.period)
    time.sleep(a.hold)
    if a.lose is not None:
        _atomic_write(os.path.join(a.state, "gpu%d" % a.lose, "lost"), "1\n")
    time.sleep(a.then_sleep)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "gpu":
    gpu_main(sys.argv[2:])
    sys.exit(0)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "gpuwork":
    gpu_work(sys.argv[2:])
    sys.exit(0)

if __name__ == "__main__":
    main()
