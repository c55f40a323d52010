/* Bar and line charts as inline SVG, with a table of the same data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* Bar chart geometry, in viewBox units. */
#define BAR_W 420
#define BAR_LABEL_X 144		/* labels end here (text-anchor: end) */
#define BAR_X 150		/* bars start here */
#define BAR_MAX_W 166		/* the longest bar */
#define BAR_ROW 26
#define BAR_H 16
#define BAR_TOP 24
#define BAR_BOTTOM 40
#define BAR_LABEL_MAX 22	/* bytes of a label drawn; the rest in <title> */

/* Line chart geometry. */
#define LINE_W 720
#define LINE_H 240
#define LINE_LEFT 58
#define LINE_RIGHT 22
#define LINE_TOP 18
#define LINE_BOTTOM 52
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

/* The smallest of 1, 2, 2.5, 5 × 10^k that is >= v (and >= 1). */
static long
nice_ceiling(long v)
{
	long p = 1;

	if (v <= 1)
		return 1;
	for (;;) {
		if (v <= p) return p;
		if (v <= 2 * p) return 2 * p;
		if (p >= 10 && v <= 5 * p / 2) return 5 * p / 2;
		if (v <= 5 * p) return 5 * p;
		if (p > 1000000000000L / 10)
			return v;
		p *= 10;
	}
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

void
svg_bar_chart(struct html *h, const struct svg_chart *c,
    const struct svg_bar *bars, size_t n, const char *flag_word)
{
	long max = 0;
	long scale;
	int height = BAR_TOP + (int)n * BAR_ROW + BAR_BOTTOM;
	int axis_y = BAR_TOP + (int)n * BAR_ROW + 4;
	char num[32], share[16], pid[96];

	chart_head(h, c);
	if (n == 0) {
		empty_chart(h, c, "bars", BAR_W);
		table_open(h, c, c->total > 0);
		table_close(h);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	scale = nice_ceiling(max);

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

	/* Column headings. */
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"14\" text-anchor=\"end\">",
	    BAR_LABEL_X);
	html_text(h, c->label_head);
	html_raw(h, "</text>");

	/* Grid and ticks: 0, half, the nice maximum. */
	for (int t = 0; t <= 4; t++) {
		int x = BAR_X + BAR_MAX_W * t / 4;
		long v = scale * t / 4;
		if (scale * t % 4 != 0)
			continue;	/* only whole numbers on the axis */
		html_rawf(h, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    x, BAR_TOP - 4, x, axis_y);
		html_format_count(v, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		    x, axis_y + 14);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	html_rawf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	    BAR_X, axis_y, BAR_X + BAR_MAX_W, axis_y);
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
	    BAR_X + BAR_MAX_W / 2, axis_y + 32);
	html_text(h, c->value_head);
	html_raw(h, "</text>");

	for (size_t i = 0; i < n; i++) {
		int y = BAR_TOP + (int)i * BAR_ROW;
		int w = (int)((double)BAR_MAX_W * (double)bars[i].value /
		    (double)scale + 0.5);
		bool flag = bars[i].flagged && flag_word != NULL;

		if (w < 2 && bars[i].value > 0)
			w = 2;
		html_raw(h, "<g class=\"row\"><title>");
		html_text(h, bars[i].label);
		html_format_count(bars[i].value, num, sizeof num);
		html_raw(h, ": ");
		html_text(h, num);
		html_raw(h, "</title>");
		html_rawf(h, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		    BAR_LABEL_X, y + BAR_H - 3);
		html_text_cut(h, bars[i].label, BAR_LABEL_MAX);
		html_raw(h, "</text>");
		html_rawf(h, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"",
		    flag ? "bar flagged" : "bar", BAR_X, y, w, BAR_H);
		if (flag) {
			char fill[112];
			snprintf(fill, sizeof fill, "url(#%s)", pid);
			html_attr(h, "fill", fill);
		}
		html_raw(h, "/>");
		html_rawf(h, "<text class=\"value\" x=\"%d\" y=\"%d\">", BAR_X + w + 5,
		    y + BAR_H - 3);
		html_text(h, num);
		if (c->total > 0) {
			svg_format_share(bars[i].value, c->total, share, sizeof share);
			html_raw(h, " \xC2\xB7 ");
			html_text(h, share);
		}
		if (flag) {
			html_raw(h, " \xE2\x9A\xA0");	/* ⚠, and the word in the table */
		}
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
	int pw = LINE_W - LINE_LEFT - LINE_RIGHT;
	int ph = LINE_H - LINE_TOP - LINE_BOTTOM;
	int base = LINE_TOP + ph;
	long max = 0, scale;
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
	scale = nice_ceiling(max);

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

	/* Y grid: five lines, 0 to the nice maximum. */
	for (int t = 0; t <= 4; t++) {
		int y = base - ph * t / 4;
		long v = scale * t / 4;
		if (scale * t % 4 != 0)
			continue;
		html_rawf(h, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    t == 0 ? "axis" : "grid", LINE_LEFT, y, LINE_LEFT + pw, y);
		html_format_count(v, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		    LINE_LEFT - 6, y + 4);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	html_rawf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	    LINE_LEFT, LINE_TOP, LINE_LEFT, base);
	html_rawf(h, "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"%d\""
	    " y=\"14\" text-anchor=\"middle\">", -(LINE_TOP + ph / 2));
	html_text(h, c->value_head);
	html_raw(h, "</text>");
	html_rawf(h, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
	    LINE_LEFT + pw / 2, LINE_H - 6);
	html_text(h, c->label_head);
	html_raw(h, "</text>");

#define PX(i) (n == 1 ? LINE_LEFT + pw / 2 : \
	LINE_LEFT + (int)((long)pw * (long)(i) / (long)(n - 1)))
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
		    PX(i), base + 20, n == 1 ? "middle" : k == 0 ? "start" :
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
	/* The latest value, written out. */
	html_format_count(pts[n - 1].y, num, sizeof num);
	{
		int ly = PY(pts[n - 1].y);
		ly = ly - 12 < LINE_TOP + 8 ? ly + 26 : ly - 12;
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
	int pw = LINE_W - LINE_LEFT - LINE_RIGHT - 90;	/* room for the names */
	int ph = LINE_H - LINE_TOP - LINE_BOTTOM;
	int base = LINE_TOP + ph;
	long max = 0, scale, *total = NULL;
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
	scale = percent ? 100 : nice_ceiling(max);
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
	for (int t = 0; t <= 4; t++) {
		int y = base - ph * t / 4;

		if (scale * t % 4 != 0)
			continue;
		html_rawf(h, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    t == 0 ? "axis" : "grid", LINE_LEFT, y, LINE_LEFT + pw, y);
		if (percent)
			snprintf(num, sizeof num, "%ld %%", scale * t / 4);
		else
			html_format_count(scale * t / 4, num, sizeof num);
		html_rawf(h, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		    LINE_LEFT - 6, y + 4);
		html_text(h, num);
		html_raw(h, "</text>");
	}
	html_rawf(h, "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"%d\""
	    " y=\"14\" text-anchor=\"middle\">", -(LINE_TOP + ph / 2));
	html_text(h, c->value_head);
	html_raw(h, "</text>");
#define AX(i) (n == 1 ? LINE_LEFT + pw / 2 : \
	LINE_LEFT + (int)((long)pw * (long)(i) / (long)(n - 1)))
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
		    AX(i), base + 20, n == 1 ? "middle" : k == 0 ? "start" :
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
				 * is tall enough to say it. */
				if (AY(mid_lo, n - 1) - AY(below[n - 1], n - 1) >= 11) {
					html_rawf(h, "<text class=\"tick\" x=\"%d\""
					    " y=\"%d\">", AX(n - 1) + (n == 1 ?
					    half : 0) + 6, (AY(mid_lo, n - 1) +
					    AY(below[n - 1], n - 1)) / 2 + 4);
					html_text(h, series[s].name);
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
