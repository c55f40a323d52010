/* Unit tests: reading server ids from `database show` text. */
#include "../../store/store.h"
#include "unit.h"

int
main(void)
{
	struct server_ids ids;
	char *text = unit_fixture("22.10.1/database_show_beacon.txt");
	char *family;

	CHECK_INT(astdb_parse_ids(text, "beacon", &ids), 0);
	CHECK_STR(ids.server_id, "3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6");
	CHECK_STR(ids.token_id, "0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d");
	CHECK_STR(ids.token_issued, "");
	astdb_parse_ids(text, "beacon/mylab", &ids);
	CHECK_STR(ids.server_id, "11111111-2222-4333-8444-555555555555");
	CHECK_STR(ids.token_id, "");
	astdb_parse_ids(text, "beacon/other", &ids);
	CHECK_STR(ids.server_id, "");
	free(text);

	/* a sub-family's key never stands in for the family's own */
	astdb_parse_ids("/beacon/mylab/server_id                           : "
	    "11111111-2222-4333-8444-555555555555\n1 results found.\n", "beacon", &ids);
	CHECK_STR(ids.server_id, "");
	/* invalid values are absent; a token without a server id too */
	astdb_parse_ids("/beacon/server_id                                 : not-a-uuid\r\n"
	    "/beacon/token_id                                  : 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d\n"
	    "/beacon/token_issued                              : 2026-11-22T18:00:00Z\n"
	    "3 results found.\n", "beacon", &ids);
	CHECK_STR(ids.server_id, "");
	CHECK_STR(ids.token_id, "");
	/* CRLF, long keys without padding, values with trailing blanks */
	astdb_parse_ids("/beacon/server_id: 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6   \r\n"
	    "/beacon/token_id                                  : 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d\r\n"
	    "/beacon/token_issued                              : 2026-11-22T18:00:00Z             \r\n"
	    "3 results found.\r\n", "beacon", &ids);
	CHECK_STR(ids.server_id, "3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6");
	CHECK_STR(ids.token_id, "0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d");
	CHECK_STR(ids.token_issued, "2026-11-22T18:00:00Z");
	/* "0 results found." (a read-only astdb can say so) and garbage */
	CHECK_INT(astdb_parse_ids("0 results found.\n", "beacon", &ids), 0);
	CHECK_STR(ids.server_id, "");
	CHECK_INT(astdb_parse_ids("\xff\x00garbage", "beacon", &ids), -1);
	CHECK_STR(ids.server_id, "");
	CHECK_INT(astdb_parse_ids(NULL, "beacon", &ids), -1);
	CHECK_STR(ids.server_id, "");

	/* issue 11: an answer that is not a listing is a read failure, never
	 * an empty store (a locked database, a cli_permissions denial, a
	 * listing cut short, a footer that does not count the rows) */
	CHECK_INT(astdb_parse_ids("", "beacon", &ids), -1);
	CHECK_INT(astdb_parse_ids("You don't have permissions to run 'database show' command\n",
	    "beacon", &ids), -1);
	CHECK_INT(astdb_parse_ids("database is locked\n", "beacon", &ids), -1);
	CHECK_INT(astdb_parse_ids("/beacon/server_id                                 : "
	    "3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6\n", "beacon", &ids), -1);
	CHECK_STR(ids.server_id, "");
	CHECK_INT(astdb_parse_ids("/beacon/server_id                                 : "
	    "3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6\n2 results found.\n", "beacon", &ids), -1);
	CHECK_INT(astdb_parse_ids("0 results found.\ntrailing words\n", "beacon", &ids), -1);
	CHECK(astdb_is_listing("0 results found.\n"));
	CHECK(astdb_is_listing("0 results found.\r\n"));
	CHECK(!astdb_is_listing("results found.\n"));

	family = astdb_family("mylab", false);
	CHECK_STR(family, "beacon/mylab");
	free(family);
	family = astdb_family("beacon", true);
	CHECK_STR(family, "beacon");
	free(family);
	UNIT_END("astdb");
}
