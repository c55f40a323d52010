/* The collector's HTML builder, its charts and the dashboard: escaping,
 * and SVG that is well-formed for the edge cases (nothing, one group, long
 * labels, hostile labels).  "Well-formed" is checked with a small XML tag
 * balancer over the SVG fragments, which are XML. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/web/dashboard.h"
#include "../../collector/web/html.h"
#include "../../collector/stats/stats.h"
#include "../../collector/web/svg.h"
#include "unit.h"

static char *
escaped(const char *s)
{
	struct html h = { 0 };

	html_text(&h, s);
	return html_steal(&h);
}

static void
test_escape(void)
{
	char *e;

	e = escaped("<script>alert('x') & \"y\"</script>");
	CHECK_STR(e, "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
	free(e);
	e = escaped("plain text");
	CHECK_STR(e, "plain text");
	free(e);
	e = escaped("");
	CHECK_STR(e, "");
	free(e);
	e = escaped("a\x01" "b\x7f" "c\td\n");
	CHECK_STR(e, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\td\n");
	free(e);
	e = escaped("caf\xC3\xA9 &amp;");
	CHECK_STR(e, "caf\xC3\xA9 &amp;amp;");
	free(e);

	{
		struct html h = { 0 };
		html_raw(&h, "<a");
		html_attr(&h, "title", "\"><img src=x onerror=1>");
		html_raw(&h, ">");
		e = html_steal(&h);
		CHECK_STR(e, "<a title=\"&quot;&gt;&lt;img src=x onerror=1&gt;\">");
		free(e);
	}
	{
		/* Cut at a UTF-8 boundary, never inside a sequence. */
		struct html h = { 0 };
		html_text_cut(&h, "\xC3\xA9\xC3\xA9\xC3\xA9", 3);
		e = html_steal(&h);
		CHECK_STR(e, "\xC3\xA9\xE2\x80\xA6");
		free(e);
	}
	{
		char n[32];
		html_format_count(0, n, sizeof n);
		CHECK_STR(n, "0");
		html_format_count(999, n, sizeof n);
		CHECK_STR(n, "999");
		html_format_count(1000, n, sizeof n);
		CHECK_STR(n, "1,000");
		html_format_count(1234567, n, sizeof n);
		CHECK_STR(n, "1,234,567");
		html_format_count(-4500, n, sizeof n);
		CHECK_STR(n, "-4,500");
	}
	{
		char s[16];
		svg_format_share(1, 2, s, sizeof s);
		CHECK_STR(s, "50%");
		svg_format_share(1, 3, s, sizeof s);
		CHECK_STR(s, "33%");
		svg_format_share(1, 40, s, sizeof s);
		CHECK_STR(s, "2.5%");
		svg_format_share(1, 100000, s, sizeof s);
		CHECK_STR(s, "<0.1%");
		svg_format_share(0, 0, s, sizeof s);
		CHECK_STR(s, "-");
	}
}

/*
 * A tag balancer: every <x ...> is closed by </x> in order, or is <x/>;
 * quoted attribute values may not hold '<'; text may not hold a bare '<'
 * or '&' that starts no entity.  Void HTML elements are allowed unclosed
 * only when html is true.  Returns true when balanced.
 */
static bool
balanced(const char *s, bool html)
{
	static const char *const voids[] = { "meta", "link", "br", "input",
	    "img", "hr", NULL };
	char stack[256][24];
	int depth = 0;

	while (*s != '\0') {
		if (*s == '&') {
			const char *semi = strchr(s, ';');
			if (semi == NULL || semi - s > 10)
				return false;
			s = semi + 1;
			continue;
		}
		if (*s != '<') {
			s++;
			continue;
		}
		if (strncmp(s, "<!DOCTYPE", 9) == 0) {
			s = strchr(s, '>');
			if (s == NULL)
				return false;
			s++;
			continue;
		}
		if (s[1] == '/') {
			size_t n = strcspn(s + 2, ">");
			if (depth == 0 || strlen(stack[depth - 1]) != n ||
			    strncmp(stack[depth - 1], s + 2, n) != 0) {
				fprintf(stderr, "unbalanced: </%.*s> closes <%s>\n",
				    (int)n, s + 2, depth > 0 ? stack[depth - 1] : "");
				return false;
			}
			depth--;
			s += 2 + n + 1;
			continue;
		}
		{
			size_t n = strcspn(s + 1, " />");
			const char *p = s + 1 + n;
			bool self = false, is_void = false;
			if (n == 0 || n >= sizeof stack[0])
				return false;
			while (*p != '>' && *p != '\0') {
				if (*p == '"') {
					const char *q = strchr(p + 1, '"');
					if (q == NULL || memchr(p + 1, '<', (size_t)(q - p)) != NULL)
						return false;
					p = q;
				}
				if (*p == '/' && p[1] == '>')
					self = true;
				p++;
			}
			if (*p == '\0')
				return false;
			for (int i = 0; html && voids[i] != NULL; i++)
				if (strlen(voids[i]) == n && strncmp(voids[i], s + 1, n) == 0)
					is_void = true;
			if (!self && !is_void) {
				if (depth == 256)
					return false;
				memcpy(stack[depth], s + 1, n);
				stack[depth][n] = '\0';
				depth++;
				/* <style> holds CSS, not markup. */
				if (strcmp(stack[depth - 1], "style") == 0) {
					const char *end = strstr(p, "</style>");
					if (end == NULL)
						return false;
					p = end - 1;
				}
			}
			s = p + 1;
		}
	}
	if (depth != 0)
		fprintf(stderr, "unbalanced: <%s> never closed\n", stack[depth - 1]);
	return depth == 0;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Each SVG fragment of a page is balanced on its own. */
static bool
svgs_balanced(const char *page)
{
	const char *p = page;

	while ((p = strstr(p, "<svg")) != NULL) {
		const char *end = strstr(p, "</svg>");
		char *frag;
		bool ok;
		if (end == NULL)
			return false;
		frag = strndup(p, (size_t)(end - p) + 6);
		ok = frag != NULL && balanced(frag, false);
		free(frag);
		if (!ok)
			return false;
		p = end;
	}
	return true;
}

static char *
bar_fragment(const struct svg_bar *bars, size_t n, long total)
{
	struct html h = { 0 };
	struct svg_chart c = { .id = "t", .title = "Title <&>", .note = "n",
	    .label_head = "Label", .value_head = "Servers", .total = total };

	svg_bar_chart(&h, &c, bars, n, "deprecated");
	return html_steal(&h);
}

static void
test_bars(void)
{
	char *f;
	static const char long_label[] = "res_a_module_with_a_very_long_name_"
	    "that_goes_on_and_on_and_on.so";

	/* Nothing at all. */
	f = bar_fragment(NULL, 0, 0);
	CHECK(f != NULL && balanced(f, true));
	CHECK(f != NULL && strstr(f, "No data yet") != NULL);
	CHECK(f != NULL && strstr(f, "role=\"img\"") != NULL);
	CHECK(f != NULL && strstr(f, "<table>") != NULL);
	free(f);

	/* One group. */
	{
		struct svg_bar one = { "22.10.1", 1, false };
		f = bar_fragment(&one, 1, 1);
		CHECK(f != NULL && balanced(f, true) && svgs_balanced(f));
		CHECK(f != NULL && strstr(f, "aria-labelledby=\"t-title t-desc\"") != NULL);
		CHECK(f != NULL && strstr(f, "<title id=\"t-title\">Title &lt;&amp;&gt;</title>") != NULL);
		CHECK(f != NULL && strstr(f, ">22.10.1</text>") != NULL);
		CHECK(f != NULL && strstr(f, ">1 \xC2\xB7 100%</text>") != NULL);
		CHECK(f != NULL && count(f, "<rect class=\"bar\"") == 1);
		CHECK(f != NULL && strstr(f, "<td class=\"num\">100%</td>") != NULL);
		free(f);
	}

	/* Long and hostile labels, a zero, a flagged bar, large numbers. */
	{
		struct svg_bar bars[] = {
			{ long_label, 1234567, false },
			{ "<script>alert(1)</script>", 12, true },
			{ "\"quoted\" & 'single'", 0, false },
			{ "other", 3, false },
		};
		f = bar_fragment(bars, 4, 2000000);
		CHECK(f != NULL && balanced(f, true) && svgs_balanced(f));
		CHECK(f != NULL && strstr(f, "<script") == NULL);
		CHECK(f != NULL && strstr(f, "&lt;script&gt;") != NULL);
		/* The drawn label is cut on the right, with the whole text in its
		 * own <title>; the row's title, the description and the table
		 * keep it whole too. */
		CHECK(f != NULL && strstr(f, "<text class=\"label\" x=\"2\" y=\"37\">res_a_module_with") != NULL);
		CHECK(f != NULL && strstr(f, "\xE2\x80\xA6<title>res_a_module_with_a_very_long_name_") != NULL);
		CHECK(f != NULL && count(f, long_label) == 4);
		CHECK(f != NULL && strstr(f, "text-anchor=\"end\">res_") == NULL);
		CHECK(f != NULL && strstr(f, "1,234,567") != NULL);
		CHECK(f != NULL && strstr(f, "fill=\"url(#t-hatch)\"") != NULL);
		CHECK(f != NULL && strstr(f, "(deprecated)") != NULL);
		CHECK(f != NULL && count(f, "<tr><th scope=\"row\">") == 4);
		free(f);
	}
}

static char *
line_fragment(const struct svg_point *pts, size_t n)
{
	struct html h = { 0 };
	struct svg_chart c = { .id = "l", .title = "Active", .label_head = "Day",
	    .value_head = "Active PBXs" };

	svg_line_chart(&h, &c, pts, n);
	return html_steal(&h);
}

/* Axes in round steps close to the data (issue 22: 2,000 for 1,006). */
static void
test_axis(void)
{
	CHECK(svg_axis_top(1006) == 1200);
	CHECK(svg_axis_top(0) == 1 && svg_axis_top(1) == 1);
	CHECK(svg_axis_top(3) == 3 && svg_axis_top(7) == 7 && svg_axis_top(9) == 10);
	CHECK(svg_axis_top(80) == 80 && svg_axis_top(81) == 100);
	CHECK(svg_axis_top(100000) == 100000);
	{
		/* 100 in five steps of 20, not one of 100. */
		struct html h = { 0 };
		struct svg_point p[2] = { { "2026-12-01", 100 }, { "2026-12-02", 50 } };
		struct svg_chart c = { .id = "a", .title = "A", .label_head = "Day",
		    .value_head = "PBXs" };
		char *f;

		svg_line_chart(&h, &c, p, 2);
		f = html_steal(&h);
		CHECK(f != NULL && strstr(f, ">20</text>") != NULL &&
		    strstr(f, ">100</text>") != NULL);
		free(f);
	}
	for (long m = 2; m < 200000; m = m * 3 / 2 + 1)
		CHECK(svg_axis_top(m) >= m && svg_axis_top(m) * 4 <= m * 5 + 4);
	/* The width estimate is on the wide side and grows with the text. */
	CHECK(svg_text_width("mmm", 10) > svg_text_width("iii", 10));
	CHECK(svg_text_width("bridge_builtin_features.so", 12.5) > 150);
}

static void
test_line(void)
{
	char *f;
	struct svg_point pts[100];
	char dates[100][11];

	f = line_fragment(NULL, 0);
	CHECK(f != NULL && balanced(f, true) && strstr(f, "No data yet") != NULL);
	free(f);

	{
		struct svg_point one = { "2026-12-01", 7 };
		f = line_fragment(&one, 1);
		CHECK(f != NULL && balanced(f, true) && svgs_balanced(f));
		CHECK(f != NULL && count(f, "<circle") == 1);
		CHECK(f != NULL && strstr(f, ">1 Dec</text>") != NULL);
		CHECK(f != NULL && strstr(f, "<polyline") == NULL);
		free(f);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(dates[i], sizeof dates[i], "2026-%02d-%02d", 1 + i / 28,
		    1 + i % 28);
		pts[i].x = dates[i];
		pts[i].y = i * 37;
	}
	f = line_fragment(pts, 100);
	CHECK(f != NULL && balanced(f, true) && svgs_balanced(f));
	CHECK(f != NULL && count(f, "<polyline") == 1);
	CHECK(f != NULL && count(f, "<circle") == 1);	/* many points: the last only */
	CHECK(f != NULL && count(f, "<tr><th scope=\"row\">") == 100);
	CHECK(f != NULL && strstr(f, "3,663") != NULL);
	free(f);

	/* All zero: no division by zero, a flat line on the axis. */
	for (int i = 0; i < 3; i++)
		pts[i].y = 0;
	f = line_fragment(pts, 3);
	CHECK(f != NULL && balanced(f, true));
	free(f);
}

static char name_pjsip[] = "res_pjsip.so", name_sip[] = "chan_sip.so";

static struct stat_group g1[] = { { (char[]){ "22" }, 60, "supported" }, { (char[]){ "20" }, 30, "security" }, { (char[]){ "other" }, 10, NULL } };
static struct stat_group g2[] = { { (char[]){ "22.10.1" }, 50, "supported" }, { (char[]){ "16.30.1" }, 30, "eol" }, { (char[]){ "other" }, 20, NULL } };
static struct stat_group g3[] = { { (char[]){ "chan_pjsip.so" }, 80, NULL }, { name_sip, 20, NULL } };
static struct stat_group g4[] = { { (char[]){ "Linux" }, 100, NULL } };
static struct stat_group g5[] = { { name_sip, 20, NULL } };
static struct stat_group st_dep[] = { { (char[]){ "deprecated" }, 20, NULL } };
static struct stat_group st_core[] = { { (char[]){ "core" }, 100, NULL } };

static char k_eol[] = "eol", k_sec[] = "security", k_sup[] = "supported";
static struct stat_group lc[3] = { { k_eol, 25, NULL }, { k_sec, 15, NULL }, { k_sup, 60, NULL } };

static struct stats *
sample(bool empty)
{
	static struct module_stat mods[2];
	static struct stats_day days[3] = {
		{ "2026-11-29", 90, { NULL, 0 }, { NULL, 0 }, 0, 0 },
		{ "2026-11-30", 95, { NULL, 0 }, { NULL, 0 }, 0, 0 },
		{ "2026-12-01", 100, { NULL, 0 }, { NULL, 0 }, 0, 0 },
	};
	/* An empty database's snapshot still has today's point (stats_build:
	 * history_today), at 0. */
	static struct stats_day today[1] = { { "2026-12-01", 0, { NULL, 0 }, { NULL, 0 }, 0, 0 } };
	static struct stats s;

	memset(&s, 0, sizeof s);
	s.generated = 1796083200;
	s.min_group = 5;
	s.active_days = 7;
	if (empty) {
		s.history = today;
		s.n_history = 1;
		return &s;
	}
	mods[0] = (struct module_stat){ name_pjsip, 100, { NULL, 0 },
	    { st_core, 1 } };
	mods[1] = (struct module_stat){ name_sip, 20, { NULL, 0 },
	    { st_dep, 1 } };
	s.servers_known = 120;
	s.servers_active = 100;
	s.servers_new_7d = 4;
	s.major_versions = (struct stat_list){ g1, 3 };
	s.versions = (struct stat_list){ g2, 3 };
	s.modules = mods;
	s.n_modules = 2;
	s.deprecated = (struct stat_list){ g5, 1 };
	s.channel_drivers = (struct stat_list){ g3, 2 };
	s.sys_names = (struct stat_list){ g4, 1 };
	s.machines = (struct stat_list){ g4, 1 };
	s.lifecycle = (struct stat_list){ lc, 3 };
	s.calls_active_total = 42;
	s.calls_processed_total = 123456;
	s.dists[STATS_DIST_CPUS] = (struct stat_dist){ 90, { "2", "4", "" } };
	s.history = days;
	s.n_history = 3;
	return &s;
}

static void
test_dashboard(const char *out)
{
	char *page = dashboard_render(sample(false));
	const char *csp = dashboard_csp();

	CHECK(page != NULL && balanced(page, true));
	CHECK(page != NULL && svgs_balanced(page));
	CHECK(page != NULL && strstr(page, "<script") == NULL);
	/* Nothing from another origin: the only URLs are the SVG namespace. */
	CHECK(page != NULL && count(page, "http") ==
	    count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
	CHECK(page != NULL && count(page, "//") ==
	    count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
	CHECK(page != NULL && count(page, "role=\"img\"") == 15);
	/* 15 charts' data tables and the distributions (issue 22) */
	CHECK(page != NULL && count(page, "<table>") == 16);
	CHECK(page != NULL && strstr(page, "<tr><th scope=\"row\">CPUs</th>"
	    "<td>2</td><td>4</td><td>\xE2\x80\x94</td><td>of 90 PBXs</td></tr>")
	    != NULL);
	/* the lifecycle: the share past end of life, and the statuses in
	 * words, the end-of-life bar marked (readable without colour) */
	CHECK(page != NULL && strstr(page, "25%</span><span class=\"what\">of PBXs "
	    "on an end-of-life Asterisk") != NULL);
	CHECK(page != NULL && strstr(page, "Release lifecycle") != NULL);
	CHECK(page != NULL && strstr(page, "past end of life") != NULL);
	CHECK(page != NULL && strstr(page, "security fixes only") != NULL);
	/* the version charts say each version's status in words, and hatch
	 * the one past its end of life; a supported one has no mark */
	CHECK(page != NULL && strstr(page, "20 (security fixes only)") != NULL);
	CHECK(page != NULL && strstr(page, "16.30.1 (past end of life)") != NULL);
	CHECK(page != NULL && strstr(page, "22 (") == NULL);
	CHECK(page != NULL && strstr(page, "22.10.1 (") == NULL);
	CHECK(page != NULL && strstr(page, "Active PBXs over time") != NULL);
	CHECK(page != NULL && strstr(page, "still load chan_sip") != NULL);
	CHECK(page != NULL && strstr(page, "123,456") != NULL);
	CHECK(strncmp(csp, "default-src 'none'; style-src 'sha256-", 38) == 0);
	CHECK(strstr(csp, "frame-ancestors 'none'") != NULL);
	if (out != NULL && page != NULL) {
		FILE *f = fopen(out, "w");
		if (f != NULL) {
			fputs(page, f);
			fclose(f);
		}
	}
	free(page);

	page = dashboard_render(sample(true));
	CHECK(page != NULL && balanced(page, true) && svgs_balanced(page));
	CHECK(page != NULL && count(page, "No data yet") == 24);
	free(page);
}

int
main(int argc, char **argv)
{
	test_escape();
	test_bars();
	test_axis();
	test_line();
	test_dashboard(argc > 1 ? argv[1] : NULL);
	UNIT_END("collector_html");
}
