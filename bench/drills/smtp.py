"""Mail servers for the drills (stdlib only): a tiny SMTP server that accepts every message and
keeps it, and one that hangs."""

import socket
import socketserver
import threading
import time
from dataclasses import dataclass


@dataclass
class Message:
    sender: str
    recipients: list[str]
    data: bytes


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        if self.server.hanging.is_set():
            # Takes the connection and never greets, until the client gives up (or dies).
            self.server.held += 1
            while self.rfile.readline():
                pass
            return
        self.reply("220 ksbb-drill ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, argument = command.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 ksbb-drill")
            elif verb == "MAIL":
                sender, recipients = argument.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(argument.partition(":")[2].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(Message(sender, recipients, b"".join(lines)))
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    """`with SmtpServer(port) as smtp:` listens on 127.0.0.1:port; `smtp.messages` holds what came."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, messages: list[Message] | None = None) -> None:
        """`messages`: a list to add to (one kept across several servers on the port)."""
        super().__init__(("127.0.0.1", port), _Session)
        self.messages: list[Message] = [] if messages is None else messages
        self.hanging = threading.Event()  # hang(): new sessions get no greeting
        self.held = 0  # connections taken while hanging

    def __enter__(self) -> "SmtpServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def hang(self) -> None:
        """From now on, take each connection and never answer (as HungServer), without closing
        anything: a session already under way finishes, none is reset."""
        self.hanging.set()

    def resume(self) -> None:
        self.hanging.clear()


class HungServer:
    """`with HungServer(port):` a mail server that hangs: it accepts every TCP connection on
    127.0.0.1:port and never says a word (no greeting), until the block ends and it closes them."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port), backlog=128)
        self.listener.settimeout(0.2)  # so that the accepting thread sees the end
        self.held: list[socket.socket] = []
        self._closing = threading.Event()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.held.append(conn)

    def __enter__(self) -> "HungServer":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self.listener.close()
        time.sleep(0.3)  # the accepting thread's last wait
        for conn in self.held:
            conn.close()
