"""A loopback SMTP server for the bench's outbox part (bench/outbox_in_process.py): accepts every message, keeps none.

    python bench/smtp_sink.py PORT

Runs aiosmtpd in its own process, so the server does not share the measuring process's GIL.
Prints "ready" once listening; then answers each line read on stdin ("count") with
"<messages> <bytes>" accepted so far. Ends when stdin closes or on SIGTERM.
"""

import sys

from aiosmtpd.controller import Controller


class Discard:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        self.bytes += len(envelope.content or b"")
        return "250 OK"


def main() -> int:
    port = int(sys.argv[1])
    handler = Discard()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print("ready", flush=True)
        for _ in sys.stdin:
            print(f"{handler.messages} {handler.bytes}", flush=True)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
