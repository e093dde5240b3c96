"""Schemathesis hooks for .ci/schemathesis.sh: send the two text bodies the
API reads that Schemathesis has no serializer for as text, so that
POST /api/v1/import (JSON Lines) and POST /api/v1/inbound/email (a raw
RFC 822 message) are exercised too instead of being reported as errors."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
schemathesis.serializer.alias("message/rfc822", "text/plain")
