/* Bar and line charts as inline SVG, with a table of the same data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* Bar chart geometry, in viewBox units.  Labels are cut to fit their
 * column by an estimate of their width (text_width), never by the browser. */
#define BAR_W 420
#define BAR_LABEL_X 2		/* labels start here (text-anchor: start) */
#define BAR_LABEL_W 150		/* and may be this wide */
#define BAR_X 158		/* bars start here */
#define BAR_ROW 26
#define BAR_H 16
#define BAR_TOP 24
#define BAR_BOTTOM 40
#define BAR_FONT 12.5		/* the stylesheet's svg text */
#define TICK_FONT 11.0		/* and its .tick */
#define MAX_INTERVALS 8		/* grid lines on an axis, at most */

/* Line chart geometry.  Its text is up to 26 units high on a narrow screen
 * (the stylesheet's max-width rule), so the margins are made for that. */
#define LINE_W 720
#define LINE_H 280
#define LINE_RIGHT 22
#define LINE_TOP 50		/* the value's name sits above the plot */
#define LINE_BOTTOM 72		/* day labels, then the axis' name */
#define LINE_FONT_NARROW 24.0	/* .tick and .axis-label when narrow */
#define LINE_LINE_NARROW 30	/* one line of that, with room */
#define LINE_MAX_MARKERS 62
#define LINE_X_LABELS 5

#define DESC_ITEMS 5

void
svg_format_share(long value, long total, char *out, size_t outlen)
{
	double pct;

	if (total <= 0) {
		snprintf(out, outlen, "-");
		return;
	}
	pct = 100.0 * (double)value / (double)total;
	if (value > 0 && pct < 0.1)
		snprintf(out, outlen, "<0.1%%");
	else if (pct < 10.0 && pct != (double)(long)pct)
		snprintf(out, outlen, "%.1f%%", pct);
	else
		snprintf(out, outlen, "%.0f%%", pct);
}

/*
 * An axis from 0 with round steps close to the data: the step is 1, 2, 2.5
 * or 5 × 10^k (2.5 only from 25 up: whole numbers), at most MAX_INTERVALS
 * of them, and of those the one whose top is the lowest (1,006 → 1,200 in
 * steps of 200, not 2,000).  The top is intervals × *step.
 */
static void
nice_axis(long max, long *step, int *intervals)
{
	static const int mant[] = { 10, 20, 25, 50 };	/* tenths */
	long best_top = 0;

	*step = 1;
	*intervals = 1;
	if (max <= 1)
		return;
	for (long p = 1; p <= 1000000000000L; p *= 10)
		for (size_t i = 0; i < sizeof mant / sizeof mant[0]; i++) {
			long st = p * mant[i] / 10;
			long k;

			if (mant[i] == 25 && p < 10)
				continue;
			k = (max + st - 1) / st;
			if (k > MAX_INTERVALS)
				continue;
			/* The lowest top; of equal ones, about 5 steps
			 * (100: 0, 20, ... 100, not 0 and 100 alone). */
			if (best_top == 0 || k * st < best_top ||
			    (k * st == best_top && labs(k - 5) <
			    labs((long)*intervals - 5))) {
				best_top = k * st;
				*step = st;
				*intervals = (int)k;
			}
		}
}

long
svg_axis_top(long max)
{
	long step;
	int k;

	nice_axis(max, &step, &k);
	return step * k;
}

/* How wide s is drawn at size (viewBox units), estimated on the wide side
 * (DejaVu Sans, Debian's usual fallback, is among the widest). */
double
svg_text_width(const char *s, double size)
{
	double em = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;

		if ((c & 0xC0) == 0x80)
			continue;		/* inside a UTF-8 sequence */
		if (c >= 0x80)
			em += 1.0;
		else if (strchr("mwMW@", c))
			em += 1.0;
		else if (strchr("iljI.,:;'|!", c))
			em += 0.34;
		else if (strchr("frt()[] -/", c))
			em += 0.45;
		else if (c >= 'A' && c <= 'Z')
			em += 0.78;
		else
			em += 0.66;
	}
	return em * size;
}

/* s drawn in at most width units: whole, or cut on the right with "…" and
 * the whole text in a <title> (for a pointer; the table has it too). */
static void
text_fit(struct html *h, const char *s, double size, double width)
{
	double ell = svg_text_width("\xE2\x80\xA6", size);
	size_t len = strlen(s), cut = 0;
	char part[512];

	if (svg_text_width(s, size) <= width) {
		html_text(h, s);
		return;
	}
	for (size_t i = 1; i <= len && i < sizeof part; i++) {
		if (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			continue;	/* only at the start of a character */
		memcpy(part, s, i);
		part[i] = '\0';
		if (svg_text_width(part, size) + ell > width)
			break;
		cut = i;
	}
	memcpy(part, s, cut);
	part[cut] = '\0';
	html_text(h, part);
	html_raw(h, "\xE2\x80\xA6<title>");
	html_text(h, s);
	html_raw(h, "</title>");
}

/* Every how many ticks a label fits: each label needs need units and
 * ticks are gap apart; a divisor of intervals, so the top is labelled. */
static int
label_every(int intervals, double gap, double need)
{
	for (int k = 1; k < intervals; k++)
		if (intervals % k == 0 && gap * k >= need)
			return k;
	return intervals;
}

static void
chart_head(struct html *h, const struct svg_chart *c)
{
	html_raw(h, "<figure class=\"chart\"");
	html_attr(h, "id", c->id);
	html_raw(h, "><figcaption><h2>");
	html_text(h, c->title);
	html_raw(h, "</h2>");
	if (c->note != NULL) {
		html_raw(h, "<p class=\"note\">");
		html_text(h, c->note);
		html_raw(h, "</p>");
	}
	html_raw(h, "</figcaption>");
}

/* <svg ...><title/><desc/>: the description is written by the caller
 * between svg_open and svg_open_end. */
static void
svg_open(struct html *h, const struct svg_chart *c, const char *cls, int w,
    int ht)
{
	char id[96];

	html_rawf(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
	    " role=\"img\"", w, ht);
	html_attr(h, "class", cls);
	snprintf(id, sizeof id, "%s-title %s-desc", c->id, c->id);
	html_attr(h, "aria-labelledby", id);
	html_raw(h, "><title");
	snprintf(id, sizeof id, "%s-title", c->id);
	html_attr(h, "id", id);
	html_raw(h, ">");
	html_text(h, c->title);
	html_raw(h, "</title><desc");
	snprintf(id, sizeof id, "%s-desc", c->id);
	html_attr(h, "id", id);
	html_raw(h, ">");
}

static void
table_open(struct html *h, const struct svg_chart *c, bool share)
{
	html_raw(h, "<details class=\"data\"><summary>Table: ");
	html_text(h, c->title);
	html_raw(h, "</summary><table><caption>");
	html_text(h, c->title);
	html_raw(h, "</caption><thead><tr><th scope=\"col\">");
	html_text(h, c->label_head);
	html_raw(h, "</th><th scope=\"col\" class=\"num\">");
	html_text(h, c->value_head);
	html_raw(h, "</th>");
	if (share)
		html_raw(h, "<th scope=\"col\" class=\"num\">Share</th>");
	html_raw(h, "</tr></thead><tbody>");
}

static void
table_row(struct html *h, const char *label, long value, const char *share,
    const char *flag)
{
	char num[32];

	html_format_count(value, num, sizeof num);
	html_raw(h, "<tr><th scope=\"row\">");
	html_text(h, label);
	if (flag != NULL) {
		html_raw(h, " <span class=\"flag\">(");
		html_text(h, flag);
		html_raw(h, ")</span>");
	}
	html_raw(h, "</th><td class=\"num\">");
	html_text(h, num);
	html_raw(h, "</td>");
	if (share != NULL) {
		html_raw(h, "<td class=\"num\">");
		html_text(h, share);
		html_raw(h, "</td>");
	}
	html_raw(h, "</tr>");
}

static void
table_close(struct html *h)
{
	html_raw(h, "</tbody></table></details></figure>\n");
}

static void
empty_chart(struct html *h, const struct svg_chart *c, const char *cls, int w)
{
	svg_open(h, c, cls, w, 64);
	html_raw(h, "No data yet.</desc>");
	html_rawf(h, "<text class=\"empty\" x=\"%d\" y=\"38\" text-anchor=\"middle\">"
	    "No data yet</text></svg>", w / 2);
}

/* A bar's number as drawn after it: "1,006 · 45% ⚠". */
static void
bar_value(const struct svg_chart *c, const struct svg_bar *bar, bool flag,
    char *out, size_t outlen)
{
	char num[32], share[16];

	html_format_count(bar->value, num, sizeof num);
	if (c->total > 0) {
		svg_format_share(bar->value, c->total, share, sizeof share);
		snprintf(out, outlen, "%s \xC2\xB7 %s%s", num, share,
		    flag ? " \xE2\x9A\xA0" : "");
	} else
		snprintf(out, outlen, "%s%s", num, flag ? " \xE2\x9A\xA0" : "");
}

void
svg_bar_chart(struct html *h, const struct svg_chart *c,
    const struct svg_bar *bars, size_t n, const char *flag_word)
{
	long max = 0, step;
	int intervals, every, bar_max_w;
	double value_w = 0;
	int height = BAR_TOP + (int)n * BAR_ROW + BAR_BOTTOM;
	int axis_y = BAR_TOP + (int)n * BAR_ROW + 4;
	char num[32], share[16], pid[96], value[64];

	chart_head(h, c);
	if (n == 0) {
		empty_chart(h, c, "bars", BAR_W);
		table_open(h, c, c->total > 0);
		table_close(h);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool flag = bars[i].flagged && flag_word != NULL;
		double w;

		if (bars[i].value > max)
			max = bars[i].value;
		bar_value(c, &bars[i], flag, value, sizeof value);
		w = svg_text_width(value, BAR_FONT);
		if (w > value_w)
			value_w = w;
	}
	nice_axis(max, &step, &intervals);
	/* The longest bar leaves room for the longest number after it. */
	bar_max_w = BAR_W - BAR_X - 6 - (int)(value_w + 0.5);
	if (bar_max_w < 60)
		bar_max_w = 60;

	svg_open(h, c, "bars", BAR_W, height);
	for (size_t i = 0; i < n && i < DESC_ITEMS; i++) {
		html_format_count(bars[i].value, num, sizeof num);
		html_text(h, bars[i].label);
		html_raw(h, ": ");
		html_text(h, num);
		if (c->total > 0) {
			svg_format_share(bars[i].value, c->total, share, sizeof share);
			html_raw(h, " (");
			html_text(h, share);
			html_raw(h, ")");
		}
		if (bars[i].flagged && flag_word != NULL) {
			html_raw(h, ", ");
			html_text(h, flag_word);
		}
		html_raw(h, i + 1 < n && i + 1 < DESC_ITEMS ? "; " : "");
	}
	if (n > DESC_ITEMS)
		html_rawf(h, "; and %zu more.", n - DESC_ITEMS);
	else
		html_raw(h, ".");
	html_raw(h, "</desc>");

	/* The hatch that marks a flagged bar without colour. */
	snprintf(pid, sizeof pid, "%s-hatch", c->id);
	html_raw(h, "<defs><pattern");
	html_attr(h, "id", pid);
	html_raw(h, " width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
	    " patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"6\""
	    " height=\"6\"/><rect class=\"hatch-fg\" width=\"3\" height=\"6\"/>"
	    "</pattern></defs>");

	/* Column heading. */
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"14\">", BAR_LABEL_X);
	text_fit(h, c->label_head, TICK_FONT * 1.1, BAR_LABEL_W);
	html_raw(h, "</text>");

	/* Grid at every step, numbers where they fit side by side. */
	html_format_count(step * intervals, num, sizeof num);
	every = label_every(intervals, (double)bar_max_w / intervals,
	    svg_text_width(num, TICK_FONT) + 8);
	for (int t = 0; t <= intervals; t++) {
		int x = BAR_X + bar_max_w * t / intervals;

		html_rawf(h, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    x, BAR_TOP - 4, x, axis_y);
		if (t % every != 0)
			continue;
		html_format_count(step * t, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		    x, axis_y + 14);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	html_rawf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	    BAR_X, axis_y, BAR_X + bar_max_w, axis_y);
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
	    BAR_X + bar_max_w / 2, axis_y + 32);
	text_fit(h, c->value_head, TICK_FONT * 1.1, BAR_W - BAR_X);
	html_raw(h, "</text>");

	for (size_t i = 0; i < n; i++) {
		int y = BAR_TOP + (int)i * BAR_ROW;
		int w = (int)((double)bar_max_w * (double)bars[i].value /
		    (double)(step * intervals) + 0.5);
		bool flag = bars[i].flagged && flag_word != NULL;

		if (w < 2 && bars[i].value > 0)
			w = 2;
		html_raw(h, "<g class=\"row\"><title>");
		html_text(h, bars[i].label);
		html_format_count(bars[i].value, num, sizeof num);
		html_raw(h, ": ");
		html_text(h, num);
		html_raw(h, "</title>");
		html_rawf(h, "<text class=\"label\" x=\"%d\" y=\"%d\">",
		    BAR_LABEL_X, y + BAR_H - 3);
		text_fit(h, bars[i].label, BAR_FONT, BAR_LABEL_W);
		html_raw(h, "</text>");
		html_rawf(h, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"",
		    flag ? "bar flagged" : "bar", BAR_X, y, w, BAR_H);
		if (flag) {
			char fill[112];
			snprintf(fill, sizeof fill, "url(#%s)", pid);
			html_attr(h, "fill", fill);
		}
		html_raw(h, "/>");
		/* ⚠ for a flagged bar, and the word in the table. */
		bar_value(c, &bars[i], flag, value, sizeof value);
		html_rawf(h, "<text class=\"value\" x=\"%d\" y=\"%d\">", BAR_X + w + 5,
		    y + BAR_H - 3);
		html_text(h, value);
		html_raw(h, "</text></g>");
	}
	html_raw(h, "</svg>");

	table_open(h, c, c->total > 0);
	for (size_t i = 0; i < n; i++) {
		svg_format_share(bars[i].value, c->total, share, sizeof share);
		table_row(h, bars[i].label, bars[i].value,
		    c->total > 0 ? share : NULL,
		    bars[i].flagged ? flag_word : NULL);
	}
	table_close(h);
}

/* "2026-12-01" → "1 Dec"; other text as it is. */
static void
short_date(const char *d, char *out, size_t outlen)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int y, m, day;
	char tail;

	if (sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &tail) == 3 && m >= 1 &&
	    m <= 12 && day >= 1 && day <= 31)
		snprintf(out, outlen, "%d %s", day, months[m - 1]);
	else
		snprintf(out, outlen, "%.16s", d);
}

void
svg_line_chart(struct html *h, const struct svg_chart *c,
    const struct svg_point *pts, size_t n)
{
	int ph = LINE_H - LINE_TOP - LINE_BOTTOM;
	int base = LINE_TOP + ph;
	int left, pw, intervals, every;
	long max = 0, step, scale;
	char num[32], day[24];
	size_t last_label = 0;

	chart_head(h, c);
	if (n == 0) {
		empty_chart(h, c, "line", LINE_W);
		table_open(h, c, false);
		table_close(h);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (pts[i].y > max)
			max = pts[i].y;
	nice_axis(max, &step, &intervals);
	scale = step * intervals;
	/* The left margin holds the widest number at the narrow screen's
	 * size; the numbers are as many as fit one above the other. */
	html_format_count(scale, num, sizeof num);
	left = 14 + (int)(svg_text_width(num, LINE_FONT_NARROW) + 0.5);
	pw = LINE_W - left - LINE_RIGHT;
	every = label_every(intervals, (double)ph / intervals, LINE_LINE_NARROW);

	svg_open(h, c, "line", LINE_W, LINE_H);
	html_format_count(pts[n - 1].y, num, sizeof num);
	html_text(h, c->value_head);
	html_raw(h, " per day, ");
	html_text(h, pts[0].x);
	html_raw(h, " to ");
	html_text(h, pts[n - 1].x);
	html_raw(h, "; latest ");
	html_text(h, num);
	html_format_count(max, num, sizeof num);
	html_raw(h, ", highest ");
	html_text(h, num);
	html_raw(h, ".</desc>");

	/* Y grid: 0 to the axis' top in round steps. */
	for (int t = 0; t <= intervals; t++) {
		int y = base - ph * t / intervals;

		html_rawf(h, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    t == 0 ? "axis" : "grid", left, y, left + pw, y);
		if (t % every != 0)
			continue;
		html_format_count(step * t, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\""
		    " dominant-baseline=\"central\">", left - 7, y);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	html_rawf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	    left, LINE_TOP, left, base);
	/* The value's name above the numbers, level: a turned label does not
	 * fit a phone's height. */
	html_raw(h, "<text class=\"axis-label\" x=\"0\" y=\"24\">");
	text_fit(h, c->value_head, LINE_FONT_NARROW * 1.1, LINE_W / 2);
	html_raw(h, "</text>");
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
	    left + pw / 2, LINE_H - 6);
	text_fit(h, c->label_head, LINE_FONT_NARROW * 1.1, pw);
	html_raw(h, "</text>");

#define PX(i) (n == 1 ? left + pw / 2 : \
	left + (int)((long)pw * (long)(i) / (long)(n - 1)))
#define PY(v) (base - (int)((double)ph * (double)(v) / (double)scale + 0.5))

	/* X labels: the first, the last, and evenly between. */
	for (int k = 0; k < LINE_X_LABELS; k++) {
		size_t i = n == 1 ? 0 : (size_t)((n - 1) * (size_t)k /
		    (LINE_X_LABELS - 1));
		if (k > 0 && i == last_label)
			continue;
		last_label = i;
		short_date(pts[i].x, day, sizeof day);
		html_rawf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    PX(i), base, PX(i), base + 5);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">",
		    PX(i), base + 30, n == 1 ? "middle" : k == 0 ? "start" :
		    k == LINE_X_LABELS - 1 ? "end" : "middle");
		html_text(h, day);
		html_raw(h, "</text>");
		if (n == 1)
			break;
	}

	/* The area under the line, then the line, then the markers. */
	if (n > 1) {
		html_rawf(h, "<path class=\"area\" d=\"M%d %d", PX(0), base);
		for (size_t i = 0; i < n; i++)
			html_rawf(h, " L%d %d", PX(i), PY(pts[i].y));
		html_rawf(h, " L%d %d Z\"/>", PX(n - 1), base);
		html_raw(h, "<polyline class=\"series\" points=\"");
		for (size_t i = 0; i < n; i++)
			html_rawf(h, "%s%d,%d", i > 0 ? " " : "", PX(i), PY(pts[i].y));
		html_raw(h, "\"/>");
	}
	for (size_t i = 0; i < n; i++) {
		if (n > LINE_MAX_MARKERS && i + 1 < n)
			continue;
		html_format_count(pts[i].y, num, sizeof num);
		html_rawf(h, "<circle class=\"marker\" cx=\"%d\" cy=\"%d\" r=\"%s\"><title>",
		    PX(i), PY(pts[i].y), i + 1 == n ? "5" : "3");
		html_text(h, pts[i].x);
		html_raw(h, ": ");
		html_text(h, num);
		html_raw(h, "</title></circle>");
	}
	/* The latest value, written out: above its point, or below it when
	 * the point is at the top (28 units high when narrow). */
	html_format_count(pts[n - 1].y, num, sizeof num);
	{
		int ly = PY(pts[n - 1].y);
		ly = ly - 12 - 28 < 0 ? ly + 34 : ly - 12;
		html_rawf(h, "<text class=\"value latest\" x=\"%d\" y=\"%d\""
		    " text-anchor=\"end\">", PX(n - 1) - 8, ly);
	}
	html_text(h, num);
	html_raw(h, "</text></svg>");
#undef PX
#undef PY

	table_open(h, c, false);
	for (size_t i = n; i-- > 0;)
		table_row(h, pts[i].x, pts[i].y, NULL, NULL);
	table_close(h);
}

/* ---- issue 22: a stacked area (added; the charts above are helper C's) -- */

#define AREA_BANDS 8		/* band classes band-0 .. band-7 */

/* The share part/whole in per cent with one decimal, as text. */
static void
pct_text(long part, long whole, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.1f %%", whole > 0 ? 100.0 * (double)part /
	    (double)whole : 0.0);
}

void
svg_stacked_area(struct html *h, const struct svg_chart *c,
    const char *const *x, size_t n, const struct svg_series *series,
    size_t n_series, bool percent)
{
	int ph = LINE_H - LINE_TOP - LINE_BOTTOM;
	int base = LINE_TOP + ph;
	int left, pw, intervals, every;
	long max = 0, step, scale, *total = NULL;
	char num[32], day[24];

	chart_head(h, c);
	if (n == 0 || n_series == 0 || (total = calloc(n, sizeof *total)) == NULL) {
		if (n > 0 && n_series > 0)
			h->oom = true;
		empty_chart(h, c, "line", LINE_W);
		table_open(h, c, false);
		table_close(h);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < n_series; s++)
			total[i] += series[s].values[i];
		if (total[i] > max)
			max = total[i];
	}
	/* Round steps close to the data, the left margin made for the
	 * widest number at a narrow screen's size (as svg_line_chart). */
	nice_axis(percent ? 100 : max, &step, &intervals);
	scale = step * intervals;
	if (percent)
		snprintf(num, sizeof num, "%ld %%", scale);
	else
		html_format_count(scale, num, sizeof num);
	left = 14 + (int)(svg_text_width(num, LINE_FONT_NARROW) + 0.5);
	pw = LINE_W - left - LINE_RIGHT - 90;	/* room for the names */
	every = label_every(intervals, (double)ph / intervals, LINE_LINE_NARROW);
	svg_open(h, c, "line", LINE_W, LINE_H);
	html_text(h, c->value_head);
	html_raw(h, " per day, ");
	html_text(h, x[0]);
	html_raw(h, " to ");
	html_text(h, x[n - 1]);
	html_raw(h, "; on the last day:");
	for (size_t s = 0; s < n_series; s++) {
		html_raw(h, s > 0 ? ", " : " ");
		html_text(h, series[s].name);
		html_raw(h, " ");
		if (percent)
			pct_text(series[s].values[n - 1], total[n - 1], num,
			    sizeof num);
		else
			html_format_count(series[s].values[n - 1], num, sizeof num);
		html_text(h, num);
	}
	html_raw(h, ".</desc>");
	for (int t = 0; t <= intervals; t++) {
		int y = base - ph * t / intervals;

		html_rawf(h, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    t == 0 ? "axis" : "grid", left, y, left + pw, y);
		if (t % every != 0)
			continue;
		if (percent)
			snprintf(num, sizeof num, "%ld %%", step * t);
		else
			html_format_count(step * t, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\""
		    " dominant-baseline=\"central\">", left - 7, y);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	/* The value's name above the numbers, level (as svg_line_chart). */
	html_raw(h, "<text class=\"axis-label\" x=\"0\" y=\"24\">");
	text_fit(h, c->value_head, LINE_FONT_NARROW * 1.1, LINE_W / 2);
	html_raw(h, "</text>");
#define AX(i) (n == 1 ? left + pw / 2 : \
	left + (int)((long)pw * (long)(i) / (long)(n - 1)))
	/* The value of v at column i, on the scale (per cent of the day's
	 * total when percent). */
#define AY(v, i) (base - (int)((double)ph * (percent ? \
	(total[i] > 0 ? 100.0 * (double)(v) / (double)total[i] : 0.0) : \
	(double)(v)) / (double)scale + 0.5))
	for (int k = 0; k < LINE_X_LABELS; k++) {
		size_t i = n == 1 ? 0 : (size_t)((n - 1) * (size_t)k /
		    (LINE_X_LABELS - 1));

		if (k > 0 && n <= (size_t)k)
			break;
		short_date(x[i], day, sizeof day);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">",
		    AX(i), base + 30, n == 1 ? "middle" : k == 0 ? "start" :
		    k == LINE_X_LABELS - 1 ? "end" : "middle");
		html_text(h, day);
		html_raw(h, "</text>");
		if (n == 1)
			break;
	}
	/* Each band from the sum of those below it to that sum plus its own;
	 * a single day is a column of bands. */
	{
		long *below = calloc(n, sizeof *below);

		if (below == NULL) {
			h->oom = true;
		} else {
			for (size_t s = 0; s < n_series; s++) {
				long mid_lo = below[n - 1];
				int half = n == 1 ? 20 : 0;

				html_rawf(h, "<path class=\"band band-%zu\" d=\"",
				    s % AREA_BANDS);
				for (size_t i = 0; i < n; i++)
					html_rawf(h, "%s%d %d", i == 0 ? "M" : " L",
					    AX(i) - half, AY(below[i] +
					    series[s].values[i], i));
				if (n == 1)
					html_rawf(h, " L%d %d", AX(0) + half,
					    AY(below[0] + series[s].values[0], 0));
				if (n == 1)
					html_rawf(h, " L%d %d", AX(0) + half,
					    AY(below[0], 0));
				for (size_t i = n; i-- > 0;)
					html_rawf(h, " L%d %d", AX(i) - half,
					    AY(below[i], i));
				html_raw(h, " Z\"><title>");
				html_text(h, series[s].name);
				html_raw(h, "</title></path>");
				for (size_t i = 0; i < n; i++)
					below[i] += series[s].values[i];
				/* Its name at its right end, when the band
				 * is tall enough to say it at a narrow
				 * screen's size; cut to the room there. */
				if (AY(mid_lo, n - 1) - AY(below[n - 1], n - 1) >=
				    LINE_LINE_NARROW) {
					html_rawf(h, "<text class=\"tick\" x=\"%d\""
					    " y=\"%d\" dominant-baseline=\"central\">",
					    AX(n - 1) + (n == 1 ? half : 0) + 6,
					    (AY(mid_lo, n - 1) + AY(below[n - 1], n - 1)) / 2);
					text_fit(h, series[s].name, LINE_FONT_NARROW,
					    LINE_W - (AX(n - 1) + (n == 1 ? half : 0) + 6));
					html_raw(h, "</text>");
				}
			}
			free(below);
		}
	}
#undef AX
#undef AY
	html_raw(h, "</svg>");
	/* The same figures as a table, the latest day first. */
	html_raw(h, "<details class=\"data\"><summary>Table: ");
	html_text(h, c->title);
	html_raw(h, "</summary><div class=\"scroll\"><table><caption>");
	html_text(h, c->title);
	html_raw(h, "</caption><thead><tr><th scope=\"col\">");
	html_text(h, c->label_head);
	html_raw(h, "</th>");
	for (size_t s = 0; s < n_series; s++) {
		html_raw(h, "<th scope=\"col\" class=\"num\">");
		html_text(h, series[s].name);
		html_raw(h, "</th>");
	}
	html_raw(h, "</tr></thead><tbody>");
	for (size_t i = n; i-- > 0;) {
		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, x[i]);
		html_raw(h, "</th>");
		for (size_t s = 0; s < n_series; s++) {
			if (percent)
				pct_text(series[s].values[i], total[i], num,
				    sizeof num);
			else
				html_format_count(series[s].values[i], num,
				    sizeof num);
			html_raw(h, "<td class=\"num\">");
			html_text(h, num);
			html_raw(h, "</td>");
		}
		html_raw(h, "</tr>");
	}
	html_raw(h, "</tbody></table></div></details></figure>\n");
	free(total);
}
