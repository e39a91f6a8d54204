"""Prints a subscriber token for the gateway's private topics: a JWT signed with HS256 by PyJWT,
granting the topics in TOPICS until TTL_SECONDS from now. A backend does the same when a user
asks for a stream.

    TOKEN_SECRET=… TOPICS='user:42:*,audit' [TTL_SECONDS=3600] [SUBJECT=user-42] \\
      .venv/bin/python mint_token.py
"""

from __future__ import annotations

import os
import sys
import time

import jwt


def main() -> int:
    secret = os.environ.get("TOKEN_SECRET", "")
    topics = [t.strip() for t in os.environ.get("TOPICS", "").split(",") if t.strip()]
    ttl = os.environ.get("TTL_SECONDS", "3600")
    if not secret or not topics or not ttl.isdigit() or int(ttl) <= 0:
        print(
            "usage: TOKEN_SECRET=… TOPICS=a,prefix*,… [TTL_SECONDS=3600] [SUBJECT=…] mint_token.py",
            file=sys.stderr,
        )
        return 2
    # topics: the grants (exact names, `prefix*` or `*`); exp: seconds since the epoch.
    claims: dict[str, object] = {"topics": topics, "exp": int(time.time()) + int(ttl)}
    if subject := os.environ.get("SUBJECT"):
        claims["sub"] = subject
    print(jwt.encode(claims, secret, algorithm="HS256"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
