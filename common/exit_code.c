/* Exit codes: the one table of names, and the one rule that combines them. */
#include "exit_code.h"

static const struct {
	const char *name;
	const char *meaning;
} exit_codes[EXIT__MAX] = {
	[EXIT_OK] = {"ok", "every due server accepted the report, or the command did its job"},
	[EXIT_PARTIAL] = {"partial", "some due servers accepted the report, some did not"},
	[EXIT_USAGE] = {"usage", "bad command line"},
	[EXIT_CONFIG] = {"config", "configuration file unreadable or invalid"},
	[EXIT_ASTERISK] = {"asterisk", "Asterisk could not be asked"},
	[EXIT_UNREACHED] = {"unreached", "no due server accepted the report, and none rejected it"},
	[EXIT_REJECTED] = {"rejected", "no due server accepted the report, and at least one rejected it"},
	[EXIT_STATE] = {"state", "the AstDB or state_dir could not be read or written"},
	[EXIT_LOCKED] = {"locked", "another beacon-report holds the lock"},
	[EXIT_NOT_DUE] = {"not_due", "no server is due; nothing was sent"},
	[EXIT_DISABLED] = {"disabled", "reporting is disabled, or there is no server to report to"},
};

static const char *const result_names[RESULT__MAX] = {
	[RESULT_NONE] = "none",
	[RESULT_SENT] = "sent",
	[RESULT_NOT_DUE] = "not_due",
	[RESULT_UNREACHED] = "unreached",
	[RESULT_REJECTED] = "rejected",
	[RESULT_WOULD_SEND] = "would_send",
	[RESULT_DISABLED] = "disabled",
};

const char *
exit_code_name(enum exit_code code)
{
	if ((int)code < 0 || code >= EXIT__MAX)
		return "unknown";
	return exit_codes[code].name;
}

const char *
exit_code_meaning(enum exit_code code)
{
	if ((int)code < 0 || code >= EXIT__MAX)
		return "unknown";
	return exit_codes[code].meaning;
}

const char *
server_result_name(enum server_result result)
{
	if ((int)result < 0 || result >= RESULT__MAX)
		return "none";
	return result_names[result];
}

enum exit_code
exit_code_combine(const enum server_result *results, int n)
{
	int due = 0, sent = 0, rejected = 0;

	for (int i = 0; i < n; i++) {
		switch (results[i]) {
		case RESULT_SENT:
		case RESULT_WOULD_SEND:
			due++, sent++;
			break;
		case RESULT_REJECTED:
			due++, rejected++;
			break;
		case RESULT_UNREACHED:
		case RESULT_NONE:
			due++;
			break;
		case RESULT_NOT_DUE:
		case RESULT_DISABLED:
		case RESULT__MAX:
			break;
		}
	}
	if (due == 0)
		return EXIT_NOT_DUE;
	if (sent == due)
		return EXIT_OK;
	if (sent > 0)
		return EXIT_PARTIAL;
	return rejected ? EXIT_REJECTED : EXIT_UNREACHED;
}
