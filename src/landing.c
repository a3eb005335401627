#include "landing.h"

#include "config.h"

void html_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			buf_puts(out, "&quot;");
			break;
		case '\'':
			buf_puts(out, "&#39;");
			break;
		default:
			buf_putc(out, *s);
		}
	}
}

static const char *state_name(enum collector_state state)
{
	switch (state) {
	case COLLECTOR_ENABLED:
		return "enabled";
	case COLLECTOR_FAILED:
		return "failed";
	default:
		return "disabled";
	}
}

/* The state cell. A collector off for want of a privilege nobody asked it to have is shown in
 * a neutral colour: that is how the packaged unprivileged service runs. */
static void state_cell(struct buf *out, const struct collector_status *c)
{
	if (collector_status_expected_off(c)) {
		buf_puts(out, "<td class=\"off\">off: not permitted (");
		html_escape(out, c->why);
		buf_puts(out, ")</td>");
		return;
	}
	buf_printf(out, "<td class=\"%s\">%s", state_name(c->state), state_name(c->state));
	if (c->why[0]) {
		buf_puts(out, c->not_permitted ? ": not permitted: " : ": ");
		html_escape(out, c->why);
	}
	buf_puts(out, "</td>");
}

static void collector_row(struct buf *out, const struct collector_status *c)
{
	buf_puts(out, "<tr><td>");
	html_escape(out, c->name);
	buf_puts(out, "</td>");
	state_cell(out, c);
	buf_puts(out, "<td>");
	if (c->state == COLLECTOR_ENABLED && c->collected_once)
		buf_printf(out, "%s in %.1f ms", c->last_success ? "ok" : "failed",
		           c->last_duration * 1000.0);
	else if (c->state == COLLECTOR_ENABLED)
		buf_puts(out, "not scraped yet");
	buf_puts(out, "</td><td>");
	html_escape(out, c->description);
	buf_puts(out, "</td></tr>\n");
}

void landing_render(struct buf *out, const char *telemetry_path, const char *privileges,
                    const struct collector_status *collectors, size_t ncollectors, bool ready)
{
	buf_puts(out,
	         "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	         "<title>kobsd</title><style>"
	         "body{font-family:sans-serif;margin:2em}"
	         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
	         "text-align:left}.enabled{color:#080}.failed{color:#b00}.disabled,.off{color:#777}"
	         "</style></head><body>\n<h1>kobsd</h1>\n"
	         "<p>The kernel observatory daemon: Linux system and process-group metrics for "
	         "Prometheus.</p>\n");
	buf_printf(out, "<p>Version %s (revision %s). %s</p>\n", PACKAGE_VERSION, KOBS_REVISION,
	           ready ? "Ready." : "Starting up.");
	buf_puts(out, "<ul><li><a href=\"");
	html_escape(out, telemetry_path);
	buf_puts(out, "\">Metrics</a> (");
	html_escape(out, telemetry_path);
	buf_puts(out, ")</li><li><a href=\"/-/healthy\">Health</a></li>"
	              "<li><a href=\"/-/ready\">Readiness</a></li></ul>\n"
	              "<h2>Collectors</h2>\n<table><tr><th>collector</th><th>state</th>"
	              "<th>last scrape</th><th>what it reads</th></tr>\n");
	for (size_t i = 0; i < ncollectors; i++)
		collector_row(out, &collectors[i]);
	buf_puts(out, "</table>\n");
	if (privileges && privileges[0]) {
		buf_puts(out, "<h2>Privileges</h2>\n<p id=\"privileges\">");
		html_escape(out, privileges);
		buf_puts(out, "</p>\n");
	}
	buf_puts(out, "</body></html>\n");
}
