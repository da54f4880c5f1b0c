#!/usr/bin/env python3
"""Re-run the README tour's `c360 query -c "..."` and `c360 eval ...` commands, and the
statements of its ```sql blocks that show a result table, on the sample workspace and write
their real output back under each (after the data or the engine changed). Run from the project root after `c360 run` has published the sample:

    cargo build --release && python3 scripts/readme_tour.py [--check]

With --check nothing is written; the commands whose output differs are listed and the exit
code is 1. A command with an elided part (`...`) is not runnable and is listed for a person to
refresh; so are the figures quoted in the prose around the blocks.
"""
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BINARY = os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "c360"
)


def command_end(lines, start):
    """The index after the last line of the command starting at `start` (a quoted SQL string
    may run over several lines)."""
    text = lines[start]
    i = start + 1
    while text.count('"') % 2 == 1 and i < len(lines):
        text += "\n" + lines[i]
        i += 1
    return i, text


def run(command):
    """The command's output as the README shows it: standard output, then standard error."""
    args = command[2:].strip()
    sql_start = args.find('"')
    if args.startswith("c360 query -c ") and sql_start >= 0 and args.rstrip().endswith('"'):
        sql = args[sql_start + 1 : args.rstrip().rfind('"')]
        argv = [BINARY, "query", "-c", sql]
    elif args.startswith("c360 eval "):
        argv = [BINARY] + args.split()[1:]
    else:
        return None
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return (done.stdout + done.stderr).rstrip("\n").split("\n")


def sql_statement_end(lines, start):
    """In a ```sql block: the index after the statement starting at `start` (it runs to a
    result table, a blank line, a comment or the end of the block)."""
    i = start
    while i < len(lines) and lines[i] and not lines[i].startswith(("+", "--", "```")):
        i += 1
    return i


def query(sql):
    """A statement's result table as `c360 query` prints it."""
    argv = [BINARY, "query", "-c", sql.strip().rstrip(";")]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return (done.stdout + done.stderr).rstrip("\n").split("\n")


def main():
    check = "--check" in sys.argv
    path = os.path.join(ROOT, "README.md")
    lines = open(path).read().split("\n")
    out, changed, manual = [], [], []
    i, block = 0, None
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            block = line[3:] if block is None else None
        elif block == "sql" and line and not line.startswith(("+", "|", "--")):
            end = sql_statement_end(lines, i)
            out.extend(lines[i:end])
            j = end
            while j < len(lines) and lines[j].startswith(("+", "|")):
                j += 1
            old, sql = lines[end:j], "\n".join(lines[i:end])
            if old and "..." in sql:
                manual.append(lines[i])
                out.extend(old)
            elif old:
                new = query(sql)
                if new != old:
                    changed.append(lines[i])
                out.extend(new)
            i = j
            continue
        if not (block == "text" and line.startswith("$ c360 ")):
            out.append(line)
            i += 1
            continue
        end, command = command_end(lines, i)
        out.extend(lines[i:end])
        # The old output: up to the next command, a blank line or the end of the block.
        j = end
        while j < len(lines) and lines[j] and not lines[j].startswith(("$ ", "```")):
            j += 1
        old = lines[end:j]
        new = None if "..." in command or not old else run(command)
        if new is None:
            manual.append(command.split("\n")[0])
            out.extend(old)
        else:
            if new != old:
                changed.append(command.split("\n")[0])
            out.extend(new)
        i = j
    for c in changed:
        print("changed:", c)
    for c in manual:
        print("refresh by hand:", c)
    if check:
        sys.exit(1 if changed else 0)
    open(path, "w").write("\n".join(out))


if __name__ == "__main__":
    main()
