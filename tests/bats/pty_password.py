#!/usr/bin/env python3
"""Run `BIN --hash-password` on a pseudo-terminal, as a person at a
terminal would, and say what the terminal showed.

usage: pty_password.py BIN STEP...
  STEP is "type:TEXT" (wait for the next prompt, a line ending in ": ",
  then type TEXT and Enter) or "signal:NAME" (wait for the next prompt,
  then send the signal NAME, e.g. SIGINT, to the process).

Prints one JSON object: "transcript" (every byte the terminal showed, as
text), "exit" (the exit status, or minus the signal that ended it),
"prompts" (how many prompts were seen) and "echo" (whether the
terminal echoes again once the process has ended).  Bounded: 10 s for
each prompt and 10 s for the exit, then the process is killed and
"exit" is null.
"""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

WAIT_S = 10.0


def main():
    binary, steps = sys.argv[1], sys.argv[2:]
    master, slave = pty.openpty()
    # A session of its own: the pty is its stdin/stdout/stderr but not a
    # controlling terminal, so no job-control signal comes from it.
    proc = subprocess.Popen([binary, "--hash-password"], stdin=slave,
                            stdout=slave, stderr=slave, start_new_session=True)
    shown = bytearray()
    prompts = 0

    def read_some(deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([master], [], [], min(left, 0.2))
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: no process holds the slave any more
                return False
            shown.extend(data)
        return True

    def wait_prompt():
        nonlocal prompts
        deadline = time.monotonic() + WAIT_S
        while shown.count(b": ") <= prompts:
            if not read_some(deadline) or proc.poll() is not None and \
                    not select.select([master], [], [], 0)[0]:
                return False
        prompts += 1
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if not wait_prompt():
            break
        if kind == "type":
            os.write(master, arg.encode() + b"\n")
        elif kind == "signal":
            time.sleep(0.1)  # the process is now blocked in read(2)
            proc.send_signal(getattr(signal, arg))
        else:
            sys.exit("pty_password.py: unknown step " + step)

    deadline = time.monotonic() + WAIT_S
    status = None
    while time.monotonic() < deadline:
        read_some(time.monotonic() + 0.2)
        if proc.poll() is not None:
            status = proc.returncode
            break
    if status is None:
        proc.kill()
        proc.wait()
    # What is left in the terminal's output queue.
    while select.select([master], [], [], 0.1)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        shown.extend(data)
    echo = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
    os.close(slave)
    os.close(master)
    print(json.dumps({"transcript": shown.decode("utf-8", "replace"),
                      "exit": status, "prompts": prompts, "echo": echo}))


if __name__ == "__main__":
    main()
