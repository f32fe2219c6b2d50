"""A logging filter that masks ID numbers and mobile numbers before any handler writes them.

Code never logs personal data on purpose; this catches what slips through (an exception
message quoting a value, a third-party library echoing a request).
"""

import logging
import re

# 18-digit ID numbers (last character a digit or X), 15-digit first-generation numbers and
# mainland mobile numbers, each standing alone (not inside a longer run of digits).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
_OLD_ID_NUMBER = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{3})(?!\d)")
# A mobile may carry +86 / 0086 / 86 before it and a space or hyphen between its groups.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86|0086)?[ -]?1[3-9]\d[ -]?)\d{4}([ -]?\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    text = _ID_NUMBER.sub(r"\1**********\2", text)
    text = _OLD_ID_NUMBER.sub(r"\1********\2", text)
    return _MOBILE.sub(r"\1****\2", text)


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback is formatted later from exc_info; format it now, masked.
            record.exc_text = mask_personal_data(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True
