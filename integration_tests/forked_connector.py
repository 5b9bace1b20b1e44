"""A warm start for the connector's command line: a process that has imported the connector once and
forks one child per run, each child running the console script's own function (`run` in
source_metronome/run.py) with its arguments, environment and output files, as a fresh process would.

Why: starting Python and importing the Airbyte CDK costs about 2.5 CPU-seconds per process (most of
it `airbyte_cdk.models.airbyte_protocol_serializers`, see `python -X importtime -c "import
airbyte_cdk"`), and the tests run the command line a few hundred times. A forked child starts with
the modules imported and nothing run, so what it does from `run()` on is what the installed
`source-metronome` does. The runs that must be killed mid-sync, and the Docker entry point test,
start the real console script.

Spoken to over stdin and stdout, one JSON object per line: a request
`{"arguments": [...], "env": {...}, "stdout": path, "stderr": path}` is answered `{"pid": n}` as
soon as the child starts and `{"returncode": n}` when it ends (negative: killed by that signal).
"""

import json
import logging
import os
import random
import sys
import threading
import traceback
from typing import Any, Callable, Dict, TextIO


def serve(requests: TextIO, replies: TextIO) -> None:
    from source_metronome.run import run

    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _run_child(run, request)
        _reply(replies, pid=pid)
        _, status = os.waitpid(pid, 0)
        _reply(replies, returncode=os.waitstatus_to_exitcode(status))


def _run_child(run: Callable[[], None], request: Dict[str, Any]) -> None:
    """Never returns: the child exits with the code the command line would have exited with."""
    code = 1
    try:
        _redirect(0, os.devnull, os.O_RDONLY)
        _redirect(1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["source-metronome", *request["arguments"]]
        # A fresh process seeds its own generator (the connector's retry jitter); a fork inherits
        # its parent's, so every child would draw the same numbers.
        random.seed()
        code = _exit_code_of(run)
        # What the interpreter does at exit: wait for the threads still working, flush the logs.
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _exit_code_of(run: Callable[[], None]) -> int:
    """The exit status Python gives a script: its sys.exit code, 1 after a printed traceback."""
    try:
        run()
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            return exit.code or 0
        print(exit.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


def _reply(replies: TextIO, **message: int) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


if __name__ == "__main__":
    # The replies get a descriptor of their own: fd 1 is each child's stdout once it is forked.
    serve(sys.stdin, os.fdopen(os.dup(sys.stdout.fileno()), "w"))
