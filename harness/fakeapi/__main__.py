"""``python -m harness.fakeapi``: serve the fake API by hand, e.g. to reproduce one cell outside Docker.

The valid key is named by an environment variable, never passed on the command line, so it can't leak
through ``ps`` or shell history; the banner prints URLs only.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from harness.fakeapi.scenarios import SCENARIOS
from harness.fakeapi.server import FakeResponsesAPI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.fakeapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument(
        "--valid-key-env",
        metavar="NAME",
        action="append",
        default=[],
        help="environment variable holding a key the server accepts (repeatable)",
    )
    parser.add_argument("--reply", default="OK", help="assistant reply text (default OK)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    keys: list[str] = []
    for name in args.valid_key_env:
        value = os.environ.get(name, "")
        if not value:
            print(
                f"error: environment variable {name} is unset or empty: export it with the key to accept",
                file=sys.stderr,
            )
            return 2
        keys.append(value)
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    with FakeResponsesAPI(valid_keys=keys, host=args.host, port=args.port, reply_text=args.reply) as api:
        print(
            f"fake Responses API on {api.base_url}; provider base_url: {api.base_url}/s/<scenario>/<tag>/v1 "
            f"(scenarios: {', '.join(SCENARIOS)}; {len(keys)} valid key(s))",
            flush=True,
        )
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
