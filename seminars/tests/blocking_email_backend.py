"""A file-based email backend that holds each send while a flag file exists (for the worker-kill test).

The worker process writes "sending" next to the flag when it starts a send, so the
test knows the worker is mid-send; messages it sends land in EMAIL_FILE_PATH,
which any process can count.
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class EmailBackend(FileBackend):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file_path", os.environ["EMAIL_FILE_PATH"])  # the settings do not read it
        super().__init__(*args, **kwargs)

    def send_messages(self, email_messages):
        flag = Path(os.environ["BLOCKING_EMAIL_FLAG"])
        if flag.exists():
            flag.with_name("sending").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while flag.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return super().send_messages(email_messages)
