/* textfile_parse (the textfile collector's *.prom files) on any bytes. Beyond "no crash, no leak,
 * no read past len":
 * - it returns 0 or -1, and a refusal says where: "line N" (and it leaves no family behind);
 * - what it accepts is served (text format, through src/expo.c) as a file it accepts again, and
 *   serving that gives the same bytes: a fixed point after one round, so nothing accepted can
 *   come out as something the parser (and so Prometheus' own) would refuse or read differently;
 * - every family served has a series, and the text served holds no CR or NUL;
 * - OpenMetrics and protobuf can be written from it too (expo asserts on anything it cannot
 *   carry). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "textfile_parse.h"

#include "fuzz_common.h"

static void serve(const struct textfile *t, enum expo_format format, struct buf *out)
{
	struct expo *e = expo_new();
	textfile_expose(t, "Metric read from fuzz.prom.", e);
	buf_reset(out);
	expo_write(e, format, out);
	expo_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct textfile *t = textfile_new();
	char err[512];
	struct buf first, second;
	buf_init(&first);
	buf_init(&second);

	int rc = textfile_parse(t, (const char *)data, size, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0, "a refusal that does not say where: %s",
		           err);
		FUZZ_CHECK(textfile_families(t) == 0, "families left after a refusal");
		goto out;
	}
	for (size_t i = 0; i < textfile_families(t); i++)
		FUZZ_CHECK(textfile_family_at(t, i)->nseries > 0, "family %s without series",
		           textfile_family_at(t, i)->name);

	serve(t, EXPO_TEXT, &first);
	FUZZ_CHECK(first.len == 0 || (!memchr(first.data, '\r', first.len) &&
	                              !memchr(first.data, '\0', first.len)),
	           "CR or NUL served");
	rc = textfile_parse(t, first.data ? first.data : "", first.len, err, sizeof(err));
	FUZZ_CHECK(rc == 0, "what was served is refused: %s\n--- served ---\n%.*s", err,
	           (int)(first.len > 2000 ? 2000 : first.len), first.data);
	serve(t, EXPO_TEXT, &second);
	FUZZ_CHECK(first.len == second.len &&
	               (!first.len || memcmp(first.data, second.data, first.len) == 0),
	           "served twice, different bytes:\n--- first ---\n%.*s\n--- second ---\n%.*s",
	           (int)(first.len > 2000 ? 2000 : first.len), first.data,
	           (int)(second.len > 2000 ? 2000 : second.len), second.data);
	serve(t, EXPO_OPENMETRICS, &second);
	serve(t, EXPO_PROTOBUF, &second);
out:
	buf_free(&first);
	buf_free(&second);
	textfile_free(t);
	return 0;
}
