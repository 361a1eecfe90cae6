#!/usr/bin/env python3
"""Writes a man page (roff) from a command's argument parser: `CMD --experimental-dump-help`.

    gen-man.py BINARY SECTION > page.SECTION
"""
import datetime
import json
import subprocess
import sys


def esc(text):
    text = (text or "").replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in text.split("\n"))


def flag(argument):
    names = [("--" if n["kind"] == "long" else "-") + n["name"] for n in argument.get("names", [])
             if n["kind"] in ("long", "short", "longWithSingleDash")]
    value = argument.get("valueName")
    if argument["kind"] == "positional":
        return f"<{value}>"
    text = ", ".join(names)
    return text + (f" <{value}>" if argument["kind"] == "option" else "")


def arguments(command, out):
    for argument in command.get("arguments", []):
        if not argument.get("shouldDisplay", True) or argument.get("preferredName", {}).get("name") in ("help", "version"):
            continue
        out.append(".TP\n\\fB" + esc(flag(argument)) + "\\fR\n" + esc(argument.get("abstract", "")))


def main():
    binary, section = sys.argv[1], sys.argv[2]
    tree = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True, text=True).stdout)
    root = tree["command"]
    name = root["commandName"]
    date = datetime.date.fromtimestamp(int(__import__("os").environ.get("SOURCE_DATE_EPOCH", "0")) or datetime.datetime.now().timestamp())
    out = [f'.TH {name.upper()} {section} "{date.isoformat()}" "overlayd" "overlayd manual"',
           ".SH NAME", f"{esc(name)} \\- {esc(root.get('abstract', ''))}",
           ".SH SYNOPSIS", f"\\fB{esc(name)}\\fR [\\fIsubcommand\\fR] [\\fIoptions\\fR]"]
    if root.get("discussion"):
        out += [".SH DESCRIPTION", esc(root["discussion"])]
    options = []
    arguments(root, options)
    if options:
        out += [".SH OPTIONS"] + options
    subs = [s for s in root.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    if subs:
        out.append(".SH COMMANDS")
        for sub in subs:
            out.append(f".SS {esc(sub['commandName'])}\n{esc(sub.get('abstract', ''))}")
            if sub.get("discussion"):
                out.append(".PP\n" + esc(sub["discussion"]))
            arguments(sub, out)
    out += [".SH FILES", "/etc/overlayd/overlayd.toml, /var/lib/overlayd/node.key, /var/lib/overlayd/keyring, /run/overlayd/overlayd.sock",
            ".SH SEE ALSO", "overlayd(8), overlayctl(1); /usr/share/doc/overlayd/"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
