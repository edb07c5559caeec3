"""Runs a command on a real pseudo-terminal and answers its prompts, like a person at a keyboard.

usage: pty-drive.py '<json: [[prompt substring, answer], ...]>' command args...
Prints everything the terminal showed; exits with the command's exit status.
"""
import json
import os
import pty
import select
import sys
import time

answers = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

shown = b""
deadline = time.time() + 20
pending = list(answers)
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    if pending and pending[0][0].encode() in shown:
        prompt, answer = pending.pop(0)
        # Answer only after the prompt is on screen, so the program (not the tty) decides what echoes.
        shown += b"<<answered " + prompt.encode() + b">>"
        os.write(fd, answer.encode() + b"\r")
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
