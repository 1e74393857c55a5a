#!/usr/bin/env python3
"""Writes held-back synthetic log sets in the Loghub-2k layout (NAME/NAME_2k.log and
NAME/NAME_2k.log_structured_corrected.csv), so loghub_eval.py --data DIR scores the miner on formats and variable
shapes it was not tuned on: pipe-separated headers, service prefixes with request ids in brackets, cluster
node/field headers, timestamp-only headers, bracketed times with a program name, host names and domains, comma
lists, dotted identifiers, interface names, constant verbs and user names.

With --wrap LOGHUB_DIR it writes instead, for every set there and every header format above, the set's real
messages behind that header (NAME-FORMAT): header finding on real message mixes, dominant events and all. With
--hosts LOGHUB_DIR it writes the sets that hold IPv4 addresses with every address turned into a host name without
digits (variables that masking must recognise by shape alone).

Usage: synthetic_loghub.py OUT_DIR [LINES]
       synthetic_loghub.py OUT_DIR --wrap LOGHUB_DIR
       synthetic_loghub.py OUT_DIR --hosts LOGHUB_DIR"""
import csv
import os
import random
import sys

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0)
if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    print(__doc__, file=sys.stderr)
    sys.exit(2)
out_dir = sys.argv[1]
wrap = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--wrap" else None
hosts = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--hosts" else None
lines = int(sys.argv[2]) if len(sys.argv) > 2 and not (wrap or hosts) else 2000
rng = random.Random(11)


def num(lo=0, hi=99999):
    return str(rng.randint(lo, hi))


def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid():
    return f"{hexs(8)}-{hexs(4)}-{hexs(4)}-{hexs(4)}-{hexs(12)}"


def ip():
    return ".".join(num(1, 254) for _ in range(4))


WORDS = ["alpha", "bravo", "delta", "kilo", "lima", "oscar", "romeo", "sierra", "tango", "zulu"]
USERS = ["root", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory"]


def host():
    return rng.choice(["www", "api", "mail", "cdn", "img", "static"]) + "." + rng.choice(WORDS) + rng.choice([".com", ".org", ".net", ".edu", ".co.uk"])


def user():
    return rng.choice(USERS)


def ident():
    return "com." + rng.choice(WORDS) + "." + rng.choice(["agent", "helper", "daemon", "sync", "update", "index", "cache", "store"])


def iface():
    return rng.choice(["eth", "alt", "wlan", "en"]) + num(0, 3)


# Each event: (template with {} slots, list of generators); the truth template has <*> at every slot.
def ev(template, *gens):
    return (template, gens)


MESSAGES = [
    # A host name and its port are one address, one variable (an IP address keeps its port apart).
    ev("{} open through proxy {} HTTPS", lambda: f"{host()}:{num(1, 65535)}", lambda: f"{host()}:{num(1, 9999)}"),
    ev("{} close, {} bytes sent, {} bytes received, lifetime {}:{}", lambda: f"{host()}:{num(1, 65535)}", num, num, lambda: num(0, 59), lambda: num(10, 59)),
    ev("{} \"GET {} HTTP/1.1\" status: {} len: {} time: {}", lambda: ",".join(ip() for _ in range(rng.randint(1, 3))), lambda: "/v2/" + hexs(32) + "/servers/detail", lambda: "200", num, lambda: f"0.{num(1000000, 9999999)}"),
    ev("[instance: {}] VM Started (Lifecycle Event)", uuid),
    ev("[instance: {}] VM Paused (Lifecycle Event)", uuid),
    ev("[instance: {}] VM Resumed (Lifecycle Event)", uuid),
    ev("[instance: {}] VM Stopped (Lifecycle Event)", uuid),
    ev("Service exited due to SIGKILL | sent by {}[{}]", ident, num),
    ev("Component State Change: Component \"{}\" is in the unavailable state (HWID={})", iface, num),
    ev("Link {} up at {} Mbps", iface, lambda: rng.choice(["100", "1000", "10000"])),
    ev("session opened for user {} by (uid={})", user, lambda: num(0, 999)),
    ev("Accepted publickey for {} from {} port {} ssh2", user, ip, num),
    ev("status installed {} {}", lambda: "lib" + rng.choice(WORDS) + ":amd64", lambda: f"{num(0, 9)}.{num(0, 20)}-{num(1, 9)}"),
    ev("status half-configured {} {}", lambda: "lib" + rng.choice(WORDS) + ":amd64", lambda: f"{num(0, 9)}.{num(0, 20)}-{num(1, 9)}"),
    ev("onStandStepChanged {}", num),
    ev("flush sensor data to {} took {} ms", ident, num),
    ev("Thermal pressure state: {} Memory pressure state: {}", lambda: num(0, 3), lambda: num(0, 3)),
    ev("Loaded Servicing Stack {} with Core: {}", lambda: f"v{num(1, 9)}.{num(0, 9)}.{num(1000, 9999)}.{num(10000, 99999)}", lambda: "C:\\Windows\\winsxs\\" + hexs(12) + "\\cbscore.dll"),
]


def pick():
    template, gens = rng.choice(MESSAGES)
    values = [g() for g in gens]
    return MESSAGES.index((template, gens)), template.format(*values), template.format(*["<*>"] * len(gens))


def ts_iso(i):
    return f"2026-12-01T{i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02}Z"


HEADERS = {
    # timestamp|component|pid|message
    "Pipes": lambda i: f"20261201-{i // 3600 % 24}:{i // 60 % 60}:{i % 60}:{num(0, 999)}|{rng.choice(['Step_LSC', 'Step_SPUtils', 'HiH_Listener'])}|{num(10000000, 39999999)}|",
    # service log prefix with a request id in brackets
    "Service": lambda i: f"svc-api.log.1.2026-12-01_13:53:08 2026-12-01 00:{i // 60 % 60:02}:{i % 60:02}.{num(100, 999)} {num(1000, 30000)} {rng.choice(['INFO', 'INFO', 'WARNING'])} svc.api.wsgi.server [req-{uuid()} {hexs(32)} {hexs(32)} - - -]",
    # cluster node/field header: record id, node, component, event type, epoch, flag
    "Cluster": lambda i: f"{num(1, 999999)} node-{num(1, 300)} {rng.choice(['unix.hw', 'node', 'switch_module'])} {rng.choice(['state_change.unavailable', 'boot', 'link.up'])} {num(1070000000, 1079999999)} 1",
    # a timestamp and nothing else
    "TimeOnly": lambda i: ts_iso(i),
    # bracketed time and a program
    "Program": lambda i: f"[12.01 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02}] {rng.choice(['chrome.exe', 'svchost.exe', 'git-remote-https.exe'])} -",
    # syslog with host names that carry digits and dotted process names
    "Syslog": lambda i: f"Dec  1 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02} host-{num(10, 250)}-{num(10, 250)} {ident()}[{num(1, 9999)}]:",
    # date, time, comma, a padded level and a component word
    "Padded": lambda i: f"2026-12-01 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02}, {rng.choice(['Info', 'Info', 'Warning'])}{' ' * rng.randint(10, 18)}CBS   ",
    # short date, time, pid, tid, one-letter level, tag
    "Letters": lambda i: f"12-01 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02}.{num(100, 999)}  {num(100, 3000)}  {num(100, 3000)} {rng.choice(['D', 'I', 'W', 'E', 'V'])} {rng.choice(['WindowManager', 'PowerManagerService', 'ActivityManager'])}:",
}



def write(name, header, events):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    i = rng.randint(0, 40000)
    with open(os.path.join(d, f"{name}_2k.log"), "w") as raw:
        for content, _, _ in events:
            i += rng.randint(0, 3)
            sep = "" if header is HEADERS["Pipes"] else " "
            raw.write(f"{header(i)}{sep}{content}\n")
    with open(os.path.join(d, f"{name}_2k.log_structured_corrected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["LineId", "Content", "EventId", "EventTemplate"])
        for k, (content, event, template) in enumerate(events):
            w.writerow([k + 1, content, event, template])


def hosts_of(src):
    import re

    address = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")

    def name(_):
        return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}.{rng.choice(WORDS)}.{rng.choice(['edu', 'com', 'org', 'net'])}"

    for real in sorted(os.listdir(src)):
        path = os.path.join(src, real, f"{real}_2k.log_structured_corrected.csv")
        if not os.path.isfile(path):
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not any(address.search(r["Content"]) for r in rows):
            continue
        d = os.path.join(out_dir, real)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(src, real, f"{real}_2k.log"), encoding="utf-8", errors="replace") as f, \
                open(os.path.join(d, f"{real}_2k.log"), "w") as raw:
            for line in f:
                raw.write(address.sub(name, line))
        with open(os.path.join(d, f"{real}_2k.log_structured_corrected.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            for r in rows:
                r["Content"] = address.sub(name, r["Content"])
                w.writerow(r)


if hosts:
    hosts_of(hosts)
elif wrap:
    for real in sorted(os.listdir(wrap)):
        path = os.path.join(wrap, real, f"{real}_2k.log_structured_corrected.csv")
        if not os.path.isfile(path):
            continue
        with open(path, newline="", encoding="utf-8") as f:
            events = [(r["Content"], r["EventId"], r["EventTemplate"]) for r in csv.DictReader(f)]
        for name, header in HEADERS.items():
            write(f"{real}-{name}", header, events)
else:
    for name, header in HEADERS.items():
        events = []
        for _ in range(lines):
            event, content, template = pick()
            events.append((content, f"E{event + 1}", template))
        write(name, header, events)
