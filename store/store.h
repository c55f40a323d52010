/* What beacon-report keeps between runs: server ids and tokens in
 * Asterisk's AstDB (CONTRACT §4), last-report stamps and the lock in
 * state_dir (§5), and the schedule that reads them. */
#ifndef BEACON_STORE_H
#define BEACON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../asterisk/asterisk.h"
#include "../common/ids.h"

/* ---- AstDB ----------------------------------------------------------- */

/* The AstDB family of a server: "beacon" or "beacon/NAME"; caller frees. */
char *astdb_family(const char *server_name, bool builtin);

/* The command that reads every server's ids at once. */
#define ASTDB_SHOW_ALL "database show beacon"

/* True when text is a whole `database show` listing: "/key : value"
 * lines, then the footer "N results found." with N the number of rows.
 * Anything else (a locked database, a cli_permissions denial, a cut
 * answer) is a read failure, never an empty store. */
bool astdb_is_listing(const char *text);

/*
 * Find "/family/key" in `database show` text (lines "KEY : VALUE", the
 * key padded to 50 columns, the value to 25) and copy its value, trimmed
 * (cut to size - 1 bytes), into out.  True when the key was there; false
 * for a NULL text or a size of 0.  Pure.
 */
bool astdb_show_value(const char *text, const char *family, const char *key,
    char *out, size_t size);

/*
 * From the text of `database show beacon`, the ids of family (exactly,
 * not its sub-families).  Values that are not valid are treated as absent
 * with a warning naming the key.  0, or -1 when the text is not a listing
 * (ids then empty; nothing printed).  Pure apart from the warnings.
 */
int astdb_parse_ids(const char *show_text, const char *family,
    struct server_ids *ids);

/* What the AstDB writers return when Asterisk could not be asked at all
 * (exit ASTERISK), as opposed to -1: asked, but the write did not hold
 * (exit STATE). */
#define ASTDB_NO_ASTERISK (-2)

/*
 * Store ids under family, one `database put` at a time (a new server id
 * first drops prev's token; the token id is written last, so that a cut
 * never pairs a new id with an old token; keys equal to prev's are not
 * written again; prev may be NULL), then one read-back.  A key whose
 * answer is not a success or whose read-back differs is an error printed
 * here.  0 on success, -1 when a write did not hold, ASTDB_NO_ASTERISK
 * when Asterisk could not be asked.
 */
int astdb_store_ids(const struct ast_client *ac, const char *family,
    const struct server_ids *ids, const struct server_ids *prev);

/* Forget everything of family: the ids and the clone check's `machine`
 * (`database del` of each key, never a deltree: the built-in server's
 * family holds the collectors' ones), checked by a read-back.  0, -1 or
 * ASTDB_NO_ASTERISK as for astdb_store_ids. */
int astdb_forget_ids(const struct ast_client *ac, const char *family);

/* ---- state_dir: stamps and lock -------------------------------------- */

/* Open state_dir (no symlink followed), first creating it 0700 when
 * create is true.  Run as root, a state_dir that its group or others
 * can write is refused.  Returns a directory fd; STATE_DIR_ABSENT when
 * it does not exist and create is false; -1 on any other error
 * (printed). */
#define STATE_DIR_ABSENT (-2)
int state_dir_open(const char *path, bool create);

/* Take the run's lock: a non-blocking flock on "lock" in dirfd; then
 * remove temporary files that crashed runs left.  Run as root, files
 * created in state_dir get the directory's owner.  Returns the lock fd
 * (keep it open for the run), STATE_LOCK_HELD when another process holds
 * it, -1 on another error (printed). */
#define STATE_LOCK_HELD (-2)
int state_lock(int dirfd);

/*
 * Read the last-report stamp of server name (dirfd < 0: no state_dir,
 * so no stamp).  1 and *last set when there
 * is one, 0 when there is none (or it was unusable: a warning is
 * printed), -1 on a read error (printed).  A stamp in the future by up
 * to 24 h counts as a report made now (*last = now: a clock stepped back
 * never lifts the 60-minute floor); one further ahead is ignored with a
 * warning (a clock reset).
 */
int stamp_read(int dirfd, const char *name, time_t now, time_t *last);

/* Replace the stamp atomically (temp file, fsync, rename, fsync of the
 * directory: each checked). 0 or -1 (printed). */
int stamp_write(int dirfd, const char *name, time_t when);

/* Remove the stamp; no stamp is not an error.  0 or -1. */
int stamp_remove(int dirfd, const char *name);

/* ---- schedule (CONTRACT §5) ------------------------------------------ */

/* Is a server with this interval and start time (minutes) due at now,
 * given its last report (has_last false: never reported)? */
bool schedule_due(time_t now, bool has_last, time_t last,
    unsigned interval, unsigned start_time);

/* -f: due regardless of the schedule, but the built-in server keeps its
 * 60-minute floor after its last report. */
bool schedule_due_forced(time_t now, bool has_last, time_t last,
    bool builtin);

/* When a forced run of the built-in server will be allowed again. */
time_t schedule_next_forced(time_t last);

/* The earliest time at or after now at which the server will be due. */
time_t schedule_next(time_t now, bool has_last, time_t last,
    unsigned interval, unsigned start_time);

#endif
