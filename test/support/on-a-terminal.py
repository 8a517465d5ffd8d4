"""Runs a command on a terminal of its own, the way a terminal window runs what it was opened
with, and closes that terminal (a hang-up) when a line arrives on standard input. What the
command writes to the terminal is copied to standard output. Exits as a shell reports the
command's end: its exit code, or 128 and the number of the signal that ended it."""

import os
import pty
import select
import sys

pid, terminal = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

while True:
    ready, _, _ = select.select([terminal, 0], [], [])
    if 0 in ready:
        os.read(0, 1024)
        # The last holder of the terminal's other side lets go: the kernel hangs it up, and the
        # command (the terminal's session leader) gets SIGHUP.
        os.close(terminal)
        break
    try:
        data = os.read(terminal, 65536)
    except OSError:
        data = b""
    if not data:
        break
    os.write(1, data)

_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    sys.exit(128 + os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
