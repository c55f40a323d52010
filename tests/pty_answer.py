#!/usr/bin/env python3
"""Run a program on a pseudo-terminal, wait for a text, type an answer.

usage: pty_answer.py EXPECT ANSWER CMD [ARG...]

Starts CMD on a new pty (its stdin, stdout and stderr), waits until what
the terminal showed contains EXPECT (a plain string) and the output has
paused, then types ANSWER and Enter, and waits for CMD to exit.  For
debconf's Teletype front end, which wants a terminal (debconf 1.5.91 of
Debian 13 refuses a pipe).  Everything the terminal showed goes to
stdout; the exit status is CMD's (1 when EXPECT never came, 124 on a
timeout: 60 s in all, then CMD is killed).
"""
import os
import pty
import select
import signal
import sys
import time

LIMIT_S = 60.0
QUIET_S = 0.3


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    expect, answer, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    shown = b""
    typed = False
    end = time.monotonic() + LIMIT_S
    last = time.monotonic()
    status = None
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                break
            shown += data
            last = time.monotonic()
        elif (not typed and expect.encode() in shown
              and time.monotonic() - last >= QUIET_S):
            os.write(fd, answer.encode() + b"\r")
            typed = True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        left = max(0.0, end - time.monotonic())
        t = time.monotonic() + left
        while time.monotonic() < t:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
            time.sleep(0.05)
    sys.stdout.write(shown.decode("utf-8", "replace"))
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write("\npty_answer: timed out after %d s\n" % LIMIT_S)
        return 124
    if not typed:
        sys.stdout.write("\npty_answer: %r never shown\n" % expect)
        return 1
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    sys.exit(main())
