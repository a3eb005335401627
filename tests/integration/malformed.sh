#!/bin/bash
# Malformed requests get one well-formed answer at once, never silence until --web.timeout and
# never the answer to another request: a query with hundreds of arguments, a NUL byte in the
# target, ambiguous or invalid Content-Length headers, a GET with a body. The requests are
# tests/integration/malformed.py.
. "$(dirname "$0")/lib.sh"

# The default --web.timeout (10 s) is the deadline for a whole request: "at once" is well
# within it.
start_kobsd
host=${KOBS_URL#http://}
within=$(scaled 3)
case_answered() { # case_answered CASE DESCRIPTION
	local out
	out=$("$PYTHON" "$KOBS_SRCDIR/tests/integration/malformed.py" "${host%:*}" "${host##*:}" \
		--within "$within" "$1" 2>&1) || fail "$out"
	pass "$2 (${out#ok })"
}

case_answered query_500_args "a query of 500 arguments is answered at once"
case_answered query_3000_args "a query of 3,000 arguments is answered at once"
case_answered query_6000_empty_args "a query of 6,000 empty arguments is answered at once"
case_answered nul_in_target "a NUL byte in the target gets 400, not /metrics"
case_answered escaped_nul_in_target "%00 in the target gets 400, not /metrics"
case_answered nul_then_query_500_args "a NUL byte then 500 query arguments get 400 at once"
case_answered two_content_lengths "two different Content-Length headers get 400"
case_answered negative_content_length "Content-Length: -1 gets a single 400"
case_answered content_length_not_a_number "a Content-Length that is not a number gets 400"
case_answered content_length_and_transfer_encoding \
	"Content-Length with Transfer-Encoding gets 400"
case_answered get_with_body "a GET with a body gets 400 and the body is never taken for a request"

[ "$(status_of /metrics)" = 200 ] || fail "not serving after the malformed requests"
fetch /metrics -H 'Content-Length: 0' -o /dev/null
pass "still serving, and a GET with Content-Length: 0 is a plain GET"
stop_kobsd || fail "exit status"
