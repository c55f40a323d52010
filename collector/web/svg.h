/*
 * Charts drawn as inline SVG by our own code, for the dashboard: a
 * horizontal bar chart and a line chart.  Each is one <figure>: a heading,
 * the SVG (role="img", aria-labelledby its <title> and a <desc> that says
 * the main figures in words), and a <table> of the same data (for screen
 * readers and for copying).  Nothing relies on colour: every bar and point
 * carries its number, and a flagged bar (a deprecated module) is hatched
 * and says so in words.  The SVG scales with its viewBox; its text is
 * styled by classes (the page's one stylesheet), never by style attributes,
 * so that a strict Content-Security-Policy allows it.
 */
#ifndef COLLECTOR_SVG_H
#define COLLECTOR_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "html.h"

/* What every chart needs; the strings are copied into the page escaped. */
struct svg_chart {
	const char *id;		/* unique on the page, [a-z0-9-] ("versions") */
	const char *title;	/* heading and SVG <title> */
	const char *note;	/* a line under the heading, or NULL */
	const char *label_head;	/* the category: "Version" (bars), "Day" (line) */
	const char *value_head;	/* the number: "Servers" */
	long total;		/* > 0: bars also show value / total as a share */
};

struct svg_bar {
	const char *label;
	long value;
	bool flagged;		/* hatched and marked "flag_word" */
};

/* Bars, in the order given; flag_word names a flagged bar ("deprecated"),
 * NULL when none is. */
void svg_bar_chart(struct html *h, const struct svg_chart *c,
    const struct svg_bar *bars, size_t n, const char *flag_word);

struct svg_point {
	const char *x;		/* "2026-12-01" */
	long y;
};

/* A line over the points, oldest first. */
void svg_line_chart(struct html *h, const struct svg_chart *c,
    const struct svg_point *pts, size_t n);

/* Issue 22: a stacked area over days x[0..n) (oldest first), one band
 * per series (values[n] each; the first at the bottom), in servers or,
 * when percent, in per cent of each day's total; each band named at its
 * right end and in a table of the same figures. */
struct svg_series {
	const char *name;
	const long *values;
};
void svg_stacked_area(struct html *h, const struct svg_chart *c,
    const char *const *x, size_t n, const struct svg_series *series,
    size_t n_series, bool percent);

/* The share value/total as text ("45%", "4.5%", "<0.1%"), into out. */
void svg_format_share(long value, long total, char *out, size_t outlen);

/* The top of a chart's axis for data up to max: round steps, close to
 * the data (1,006 → 1,200). */
long svg_axis_top(long max);

/* How wide s is drawn at size, in the same units (an estimate on the wide
 * side, for cutting labels so that they fit). */
double svg_text_width(const char *s, double size);

#endif
