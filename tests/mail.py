"""An e-mail backend for tests: locmem, in front of a mail server with moods chosen by address.

"refused…@" gets a final 550 refusal, "down…@" a dropped connection every time, "flaky…@" a
dropped connection on the first two tries. `attempts` counts the tries per address.
"""

import smtplib
from collections import Counter

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

BACKEND = "tests.mail.MoodyBackend"


class MoodyBackend(LocmemBackend):
    """locmem, except for the addresses above; a message to them is not put in the outbox."""

    attempts: Counter = Counter()

    def send_messages(self, email_messages):
        for message in email_messages:
            for address in message.recipients():
                self.attempts[address] += 1
                local_part = address.partition("@")[0]
                if local_part.startswith("refused"):
                    raise smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 User unknown")})
                if local_part.startswith("down") or (
                    local_part.startswith("flaky") and self.attempts[address] <= 2
                ):
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)
